import type { Pcm } from "../audio/types.js";
import type { Hypothesis, RecognitionContext, Recognizer, Utterance } from "./types.js";

/** How long the backup stands in after a failure before the primary is tried again, by default. */
export const STAND_IN_MS = 5 * 60_000;

export interface FallbackOptions {
  /** After a failure the backup takes the utterances for this long, then the primary is tried again (default STAND_IN_MS). */
  retryAfterMs?: number;
  /** Each time the primary fails and the backup takes over (for a log line). */
  onFallback?: (error: Error, backup: Recognizer) => void;
  /** The backup could not be opened (why no offline engine took over: what to install). */
  onNoBackup?: (error: Error) => void;
  now?: () => number;
}

/**
 * A cloud recognizer with an offline one behind it. When the primary fails on an utterance (no
 * network, a refused key, a service that does not answer), the audio it was given is decoded by
 * the backup, so the request is not lost, and the utterance says so (`recoveredFrom`: the dialogue
 * apologises for the switch). The backup then takes the utterances until `retryAfterMs` has passed:
 * a speaker whose network is down must not wait for a time-out on every request.
 * The backup is opened on the first failure (`openBackup`), so a healthy primary costs no second
 * engine's memory; when it cannot be opened (null), the primary's error is thrown as before.
 */
export class FallbackRecognizer implements Recognizer {
  private opening: Promise<Recognizer | null> | null = null;
  /** The backup while it takes the utterances (until `retryAfterMs` after the primary failed). */
  private standIn: { recognizer: Recognizer; since: number } | null = null;
  private readonly now: () => number;

  constructor(readonly primary: Recognizer, private readonly openBackup: () => Promise<Recognizer | null>, private readonly options: FallbackOptions = {}) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The engine that takes the next utterance: the backup while it stands in, else the primary. */
  private get active(): Recognizer {
    if (this.standIn && this.now() - this.standIn.since >= (this.options.retryAfterMs ?? STAND_IN_MS)) this.standIn = null;
    return this.standIn?.recognizer ?? this.primary;
  }

  get name(): string {
    return this.active.name;
  }

  get locale(): string {
    return this.primary.locale;
  }

  begin(context?: RecognitionContext): Utterance {
    if (this.active !== this.primary) return this.active.begin(context);
    return new GuardedUtterance(this.primary.begin(context), async (error, audio) => {
      this.opening ??= this.openBackup().catch((e: Error) => (this.options.onNoBackup?.(e), null));
      const backup = await this.opening;
      if (!backup) return null;
      this.standIn = { recognizer: backup, since: this.now() };
      this.options.onFallback?.(error, backup);
      const utterance = backup.begin(context);
      for (const pcm of audio) utterance.write(pcm);
      return utterance;
    });
  }

  complete(text: string): boolean {
    return this.active.complete?.(text) ?? false;
  }

  async close(): Promise<void> {
    await this.primary.close();
    await (await this.opening)?.close();
  }
}

/** The primary's utterance, with its audio kept until the end in case another engine must decode it. */
class GuardedUtterance implements Utterance {
  private readonly audio: Pcm[] = [];
  recoveredFrom?: Error;

  constructor(private readonly inner: Utterance, private readonly recover: (error: Error, audio: Pcm[]) => Promise<Utterance | null>) {}

  write(pcm: Pcm): void {
    this.audio.push(pcm.slice());
    this.inner.write(pcm);
  }

  partial(): string {
    return this.inner.partial();
  }

  async end(): Promise<Hypothesis[]> {
    try {
      return await this.inner.end();
    } catch (e) {
      const instead = await this.recover(e as Error, this.audio);
      if (!instead) throw e;
      this.recoveredFrom = e as Error;
      return instead.end();
    }
  }
}
