import { EXCLUSIVE, expectedAnswers, heardIn } from "./answers.js";
import type { RecognitionContext } from "../speech/types.js";
import { createActor, waitFor, type Actor, type AnyActorRef } from "xstate";
import type { IntentMatcher, Parse } from "../nlu/matcher.js";
import type { Locale, Shop } from "../shop/types.js";
import { MissingResponseError, renderReply, type Reply } from "../voice/reply.js";
import { createDialogueMachine, DEFAULT_TIMING, type DialogueMachine, type DialogueTiming } from "./machine.js";
import { redactLike, redactPin } from "./redact.js";
import type { Reading } from "../nlu/choose-hypothesis.js";
import type { CatalogKnowledge } from "./types.js";

export interface ShopCall {
  method: string;
  ms: number;
  ok: boolean;
}

/** Everything one turn did: what the per-turn log line and `--trace` show. PIN digits are redacted. */
export interface TurnTrace {
  input: string;
  locale: Locale;
  intent: string | null;
  slots: Record<string, unknown>;
  score: number | null;
  stateBefore: string;
  stateAfter: string;
  shopCalls: ShopCall[];
  reply: string;
  replyKey: string;
  ms: number;
  ended: boolean;
}

/** xstate's clock shape (not exported by name): real timers by default, SimulatedClock in tests. */
export type Clock = NonNullable<Parameters<typeof createActor>[1]>["clock"];

export interface SessionOptions {
  matcher: IntentMatcher;
  shop: Shop;
  /** What the catalog knows about words; SqlShop's search index by default. */
  catalog?: CatalogKnowledge;
  shopperId: string;
  locale: Locale;
  timing?: DialogueTiming;
  /** For tests: xstate's SimulatedClock drives the delays (timeouts) instead of real time. */
  clock?: Clock;
  onTurn?: (trace: TurnTrace) => void;
}

/** One conversation: text in, reply text out, per turn. Voice input and output plug in around it. */
export class Session {
  private readonly actor: Actor<DialogueMachine>;
  private readonly calls: ShopCall[] = [];
  private readonly categoryName: (id: string, plural: boolean) => string;

  constructor(private readonly opts: SessionOptions) {
    const shop = recordCalls(opts.shop, this.calls);
    const catalog = opts.catalog ?? (opts.shop as Shop & { index?: CatalogKnowledge }).index;
    if (!catalog) throw new Error("Session needs the catalog's word knowledge: pass `catalog` (a CatalogIndex over your products)");
    const responses = opts.matcher.grammar.responses;
    const machine = createDialogueMachine({ shop, shopperId: opts.shopperId, locale: opts.locale, catalog, responses }, opts.timing ?? DEFAULT_TIMING);
    this.actor = createActor(machine, opts.clock ? { clock: opts.clock } : {});
    this.actor.start();
    const categories = new Map(opts.shop.categories().map((c) => [c.id, c]));
    this.categoryName = (id, plural) => (plural ? categories.get(id)?.plural : categories.get(id)?.name)?.[opts.locale] ?? id;
  }

  get locale(): Locale {
    return this.opts.locale;
  }

  get state(): string {
    return stateName(this.actor.getSnapshot().value);
  }

  /** What the dialogue expects to hear next (the answers to its open question), for the recognizer. */
  get expecting(): RecognitionContext {
    return { expect: expectedAnswers(this.state), exclusive: EXCLUSIVE.has(this.state) };
  }

  get ended(): boolean {
    const snap = this.actor.getSnapshot();
    return snap.matches({ dialog: "ended" }) || snap.matches({ session: "timedOut" });
  }

  /** The dialogue machine, for tests that inspect context. */
  get machineActor(): AnyActorRef {
    return this.actor;
  }

  parse(text: string) {
    return this.opts.matcher.parse(text);
  }

  /** One typed or transcribed utterance. An empty one counts as no input. */
  async turn(text: string): Promise<TurnTrace> {
    const started = performance.now();
    if (text.trim() === "") return this.send({ type: "NO_INPUT" }, text, null, started);
    const result = this.opts.matcher.parse(text);
    return this.send({ type: "UTTERANCE", parse: result.best }, text, result.best, started);
  }

  /**
   * A spoken turn: the recognizer's n-best; the hypothesis that parses best is the one the dialogue
   * hears. `notice`: a response said before the reply (why this turn was heard differently).
   */
  async hear(hypotheses: Reading[], notice?: string): Promise<TurnTrace> {
    const started = performance.now();
    const heard = heardIn(this.opts.matcher, hypotheses, this.state);
    if (!heard) return this.send({ type: "UTTERANCE", parse: null }, "", null, started, notice);
    return this.send({ type: "UTTERANCE", parse: heard.parse }, heard.reading.text, heard.parse, started, notice);
  }

  /**
   * Another reading of a traced turn, hidden as its input was (for `replay --json`): when the
   * input had digits hidden, only the words it shows are kept; otherwise the reading's own runs of
   * digits are hidden, except the numbers the parse read.
   */
  redactReading(text: string, trace: TurnTrace): string {
    if (isPinTurn(trace.intent, trace.stateBefore) || trace.input.includes("*")) return redactLike(text, trace.input);
    return redactPin(text, this.opts.matcher.grammar, false, numberSlots(trace.slots));
  }

  async noInput(): Promise<TurnTrace> {
    return this.send({ type: "NO_INPUT" }, "", null, performance.now());
  }

  /** Speech the recognizer failed on (its service did not answer): an apology; the dialogue stays where it was. */
  unrecognized(): TurnTrace {
    this.calls.length = 0;
    return this.trace("", null, this.state, { key: "speech_failed" }, performance.now());
  }

  private async send(event: { type: "UTTERANCE"; parse: Parse | null } | { type: "NO_INPUT" }, text: string, parse: Parse | null, started: number, notice?: string): Promise<TurnTrace> {
    const stateBefore = this.state;
    this.calls.length = 0;
    if (this.ended) return this.trace(text, parse, stateBefore, { key: "session_ended" }, started, notice);
    this.actor.send(event);
    const snap = await waitFor(this.actor, (s) => !s.hasTag("busy"), { timeout: Infinity });
    return this.trace(text, parse, stateBefore, snap.context.reply ?? { key: "cannot_do" }, started, notice);
  }

  private trace(text: string, parse: Parse | null, stateBefore: string, reply: Reply, started: number, notice?: string): TurnTrace {
    const pinTurn = isPinTurn(parse?.intent ?? null, stateBefore);
    const trace: TurnTrace = {
      input: redactPin(text, this.opts.matcher.grammar, pinTurn, numberSlots(parse?.slots ?? {})),
      locale: this.opts.locale,
      intent: parse?.intent ?? null,
      slots: parse ? redactSlots(parse.slots, pinTurn) : {},
      score: parse ? Math.round(parse.score * 1000) / 1000 : null,
      stateBefore,
      stateAfter: this.state,
      shopCalls: [...this.calls],
      reply: notice ? `${this.render({ key: notice })} ${this.render(reply)}` : this.render(reply),
      replyKey: reply.key,
      ms: Math.round((performance.now() - started) * 10) / 10,
      ended: this.ended,
    };
    this.opts.onTurn?.(trace);
    return trace;
  }

  /** A reply that cannot be put into words (a broken responses.yaml) becomes an apology, not a crash. */
  private render(reply: Reply): string {
    try {
      return renderReply(reply, this.opts.matcher.grammar.responses, this.opts.locale, this.categoryName);
    } catch (e) {
      if (!(e instanceof MissingResponseError)) throw e;
      process.emitWarning(e.message);
      return this.opts.locale === "de" ? "Entschuldigung, dafür fehlt mir gerade die passende Antwort." : "Sorry, I can't put that into words right now.";
    }
  }

  stop(): void {
    this.actor.stop();
  }
}

function stateName(value: unknown): string {
  const dialog = (value as { dialog?: unknown }).dialog;
  return typeof dialog === "string" ? dialog : JSON.stringify(dialog);
}

/** Wraps the shop so every call of a turn is timed for the trace. */
function recordCalls(shop: Shop, calls: ShopCall[]): Shop {
  return new Proxy(shop, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function" || prop === "categories") return value;
      return async (...args: unknown[]) => {
        const t = performance.now();
        try {
          const result = await value.apply(target, args);
          calls.push({ method: String(prop), ms: Math.round((performance.now() - t) * 10) / 10, ok: true });
          return result;
        } catch (e) {
          calls.push({ method: String(prop), ms: Math.round((performance.now() - t) * 10) / 10, ok: false });
          throw e;
        }
      };
    },
  });
}

/** A turn at the PIN prompt, or one read as a PIN: every digit in it is hidden. */
const isPinTurn = (intent: string | null, stateBefore: string) => intent === "ProvidePin" || stateBefore === "askingPin";

/** The numbers a parse read (an order number, a quantity): never a PIN, so a trace may show them. */
function numberSlots(slots: Record<string, unknown>): string[] {
  return Object.entries(slots).filter(([k, v]) => k !== "pin" && typeof v === "number").map(([, v]) => String(v));
}

/** The PIN slot is hidden; in a PIN turn every number is (digits said at the PIN prompt may be read as something else). */
function redactSlots(slots: Record<string, unknown>, pinTurn: boolean): Record<string, unknown> {
  return Object.fromEntries(Object.entries(slots).map(([k, v]) => [k, k === "pin" ? "****" : pinTurn && typeof v === "number" ? "*" : v]));
}
