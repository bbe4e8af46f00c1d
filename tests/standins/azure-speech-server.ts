/**
 * A local stand-in for the Azure Speech websocket service, good enough for the real
 * `microsoft-cognitiveservices-speech-sdk` to recognize and synthesize against it
 * (wire protocol: ../shared/notes/azure-speech-wire-protocol.md). 127.0.0.1 only, random port.
 *
 * The test scripts it: what each recognition turn answers (n-best, NoMatch, a service error,
 * a delay, a close mid-stream), what each synthesis returns, or a refusal at the upgrade (401).
 * Like the service, it hears only audio with speech energy: a turn whose audio stays quiet (see
 * `isSpeech`) gets no start of speech, no partials and InitialSilenceTimeout, whatever its script says.
 * It records every connection: URL, headers, messages, speech.context and the audio bytes.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { randomBytes } from "node:crypto";
import { WebSocketServer, type RawData, type WebSocket } from "ws";

/** One reading in a scripted n-best list; word times in seconds from the start of the audio. */
export interface ScriptedReading {
  text: string; // Lexical (and Display, unless `display` is given)
  confidence: number;
  display?: string;
  words?: { word: string; start: number; end: number }[];
}

/** One `speech.phrase` the stand-in sends: an n-best list, or a status without one. */
export type ScriptedPhrase = { nbest: ScriptedReading[] } | { status: "NoMatch" | "InitialSilenceTimeout" | "Error" | "BadRequest" };

/** How one recognition turn goes. Unscripted turns answer NoMatch. */
export interface SttScript {
  /** Sent after the client ends its audio, in order, if the audio held speech. Default: one NoMatch. */
  phrases?: ScriptedPhrase[];
  /** Sent as `speech.hypothesis` once the first speech arrives. */
  partials?: string[];
  /** Wait this long after the end of the audio before answering. */
  delayMs?: number;
  /**
   * Close the websocket with this code once this much audio (bytes, after the RIFF header) has
   * arrived (default 0: at the first audio), or at the end of the audio ("end") instead of answering.
   */
  drop?: { code: number; reason?: string; afterBytes?: number | "end" };
}

/** How one synthesis goes. */
export interface TtsScript {
  pcm?: Buffer; // audio body to send; default 0.1 s of silence
  chunkBytes?: number;
  delayMs?: number;
  drop?: { code: number; reason?: string };
}

export interface ReceivedMessage {
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Everything one client connection sent. */
export interface Connection {
  kind: "stt" | "tts";
  url: URL;
  headers: IncomingMessage["headers"];
  messages: ReceivedMessage[];
  /** Parsed `speech.context` bodies, one per turn. */
  speechContexts: any[];
  /** PCM received (the SDK's 44-byte RIFF header stripped). */
  audio: Buffer;
  ssml: string[];
  closedWith?: number;
}

const TICKS_PER_SECOND = 10_000_000;
const BYTES_PER_SECOND = 32_000; // 16 kHz, 16-bit, mono
/** RMS (s16) above which a chunk of audio counts as speech: about -40 dBFS, so digital silence and faint hiss do not. */
const SPEECH_RMS = 330;

/** Whether a chunk of s16le PCM has speech energy (RMS over its samples). */
export function isSpeech(pcm: Buffer): boolean {
  const n = pcm.length >> 1;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += pcm.readInt16LE(2 * i) ** 2;
  return n > 0 && Math.sqrt(sum / n) > SPEECH_RMS;
}

export class AzureSpeechStandin {
  readonly connections: Connection[] = [];
  /** Turn scripts, consumed one per recognition turn; `sttDefault` when the queue is empty. */
  readonly sttQueue: SttScript[] = [];
  sttDefault: SttScript = {};
  readonly ttsQueue: TtsScript[] = [];
  ttsDefault: TtsScript = {};
  /** When set, every websocket upgrade is refused with this HTTP status (e.g. 401). */
  rejectUpgrade?: number;
  /** Upgrades seen, refused ones included. */
  upgrades = 0;

  private readonly sockets = new Set<WebSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly port: number,
    readonly key: string,
  ) {}

  /** Starts on 127.0.0.1 at a random port. Clients must present `key` (else 401). */
  static async start(opts: { key?: string } = {}): Promise<AzureSpeechStandin> {
    const server = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const standin = new AzureSpeechStandin(server, wss, port, opts.key ?? "standin-key");
    server.on("upgrade", (req, socket, head) => standin.upgrade(req, socket, head));
    return standin;
  }

  /** `ws://127.0.0.1:PORT`, for `SpeechConfig.fromHost` / AZURE_SPEECH_HOST. */
  get host(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Environment for the talkcart Azure modules pointing at this stand-in. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { AZURE_SPEECH_KEY: this.key, AZURE_SPEECH_HOST: this.host, ...extra };
  }

  stt(...scripts: SttScript[]): this {
    this.sttQueue.push(...scripts);
    return this;
  }

  tts(...scripts: TtsScript[]): this {
    this.ttsQueue.push(...scripts);
    return this;
  }

  /** The phrase-list texts of a `speech.context` (the `dgi` Generic groups). */
  static phraseList(context: any): string[] {
    const groups: any[] = context?.dgi?.groups ?? [];
    return groups.filter((g) => g.type === "Generic").flatMap((g) => (g.items ?? []).map((i: any) => i.text));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    this.upgrades++;
    const url = new URL(req.url ?? "/", this.host);
    const key = req.headers["ocp-apim-subscription-key"] ?? url.searchParams.get("Ocp-Apim-Subscription-Key");
    const kind = /\/speech\/recognition\/(interactive|conversation|dictation)\/cognitiveservices\/v1$/.test(url.pathname)
      ? "stt"
      : /\/cognitiveservices\/websocket\/v1$/.test(url.pathname)
        ? "tts"
        : undefined;
    const status = this.rejectUpgrade ?? (key !== this.key ? 401 : kind ? undefined : 404);
    if (status) {
      socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = { kind: kind!, url, headers: req.headers, messages: [], speechContexts: [], audio: Buffer.alloc(0), ssml: [] };
      this.connections.push(conn);
      this.sockets.add(ws);
      ws.on("close", () => this.sockets.delete(ws));
      ws.on("error", () => {});
      const onMessage = kind === "stt" ? this.sttSession(ws, conn) : this.ttsSession(ws, conn);
      ws.on("message", (data: RawData, isBinary: boolean) => {
        const msg = parse(Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary);
        conn.messages.push(msg);
        onMessage(msg);
      });
    });
  }

  private sttSession(ws: WebSocket, conn: Connection) {
    const detailed = conn.url.searchParams.get("format") === "detailed";
    let turn: { requestId: string; script: SttScript; bytes: number; started: boolean; speech: boolean } | undefined;
    return (msg: ReceivedMessage) => {
      const requestId = msg.headers["x-requestid"] ?? "";
      if (msg.path === "speech.context") {
        conn.speechContexts.push(JSON.parse(String(msg.body)));
        turn = { requestId, script: this.sttQueue.shift() ?? this.sttDefault, bytes: 0, started: false, speech: false };
        return;
      }
      if (msg.path !== "audio" || !turn || !Buffer.isBuffer(msg.body)) return;
      const t = turn;
      let pcm = msg.body;
      if (!t.started) {
        t.started = true;
        if (pcm.subarray(0, 4).toString("latin1") === "RIFF") pcm = pcm.subarray(44);
        send(ws, "turn.start", requestId, { context: { serviceTag: "standin" } });
      }
      // The start of speech (and the partials) come with the first chunk that has speech energy.
      if (!t.speech && isSpeech(pcm.subarray(t.bytes % 2))) {
        t.speech = true;
        send(ws, "speech.startDetected", requestId, { Offset: ticks(t.bytes / BYTES_PER_SECOND) });
        for (const p of t.script.partials ?? []) send(ws, "speech.hypothesis", requestId, { Text: p, Offset: 0, Duration: ticks(t.bytes / BYTES_PER_SECOND) });
      }
      if (msg.body.length > 0) {
        t.bytes += pcm.length;
        conn.audio = Buffer.concat([conn.audio, pcm]);
        const drop = t.script.drop;
        if (drop && drop.afterBytes !== "end" && t.bytes >= (drop.afterBytes ?? 0)) this.drop(ws, conn, drop);
        return;
      }
      // An empty audio body ends the stream: answer the turn.
      turn = undefined;
      if (t.script.drop?.afterBytes === "end") return this.drop(ws, conn, t.script.drop);
      this.later(t.script.delayMs ?? 0, () => {
        if (ws.readyState !== ws.OPEN) return;
        const phrases: ScriptedPhrase[] = !t.speech ? [{ status: "InitialSilenceTimeout" }] : (t.script.phrases ?? [{ status: "NoMatch" }]);
        const total = t.bytes / BYTES_PER_SECOND;
        phrases.forEach((p, i) => {
          const offset = (total * i) / phrases.length;
          send(ws, "speech.phrase", requestId, phraseBody(p, offset, total / phrases.length, detailed));
        });
        send(ws, "speech.endDetected", requestId, { Offset: ticks(total) });
        send(ws, "turn.end", requestId, {});
      });
    };
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private drop(ws: WebSocket, conn: Connection, drop: { code: number; reason?: string }) {
    if (ws.readyState !== ws.OPEN) return;
    conn.closedWith = drop.code;
    ws.close(drop.code, drop.reason ?? "stand-in drop");
  }

  private ttsSession(ws: WebSocket, conn: Connection) {
    return (msg: ReceivedMessage) => {
      if (msg.path !== "ssml") return;
      conn.ssml.push(String(msg.body));
      const requestId = msg.headers["x-requestid"] ?? "";
      const script = this.ttsQueue.shift() ?? this.ttsDefault;
      const pcm = script.pcm ?? Buffer.alloc(BYTES_PER_SECOND / 10);
      const streamId = randomBytes(16).toString("hex");
      this.later(script.delayMs ?? 0, () => {
        if (ws.readyState !== ws.OPEN) return;
        if (script.drop) return this.drop(ws, conn, script.drop);
        send(ws, "turn.start", requestId, { context: { serviceTag: "standin" } });
        send(ws, "response", requestId, { context: { serviceTag: "standin" }, audio: { type: "inline", streamId } });
        const chunk = script.chunkBytes ?? 4096;
        for (let i = 0; i < pcm.length; i += chunk) sendAudio(ws, requestId, streamId, pcm.subarray(i, i + chunk));
        send(ws, "turn.end", requestId, {});
      });
    };
  }
}

function ticks(seconds: number): number {
  return Math.round(seconds * TICKS_PER_SECOND);
}

function phraseBody(p: ScriptedPhrase, offset: number, duration: number, detailed: boolean): object {
  const at = { Offset: ticks(offset), Duration: ticks(duration) };
  if ("status" in p) return { RecognitionStatus: p.status, ...at };
  const best = p.nbest[0];
  const display = (r: ScriptedReading) => r.display ?? r.text;
  if (!detailed) return { RecognitionStatus: "Success", DisplayText: best ? display(best) : "", ...at };
  return {
    RecognitionStatus: "Success",
    DisplayText: best ? display(best) : "",
    ...at,
    NBest: p.nbest.map((r) => ({
      Confidence: r.confidence,
      Lexical: r.text,
      ITN: r.text,
      MaskedITN: r.text,
      Display: display(r),
      ...(r.words && { Words: r.words.map((w) => ({ Word: w.word, Offset: ticks(offset + w.start), Duration: ticks(w.end - w.start) })) }),
    })),
  };
}

function headerBlock(path: string, requestId: string, extra: Record<string, string> = {}): string {
  const headers = { "X-RequestId": requestId, Path: path, "X-Timestamp": new Date().toISOString(), ...extra };
  return Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
}

function send(ws: WebSocket, path: string, requestId: string, body: object) {
  ws.send(`${headerBlock(path, requestId, { "Content-Type": "application/json; charset=utf-8" })}\r\n${JSON.stringify(body)}`);
}

function sendAudio(ws: WebSocket, requestId: string, streamId: string, body: Buffer) {
  const headers = Buffer.from(headerBlock("audio", requestId, { "X-StreamId": streamId, "Content-Type": "audio/x-wav" }), "latin1");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(headers.length);
  ws.send(Buffer.concat([length, headers, body]), { binary: true });
}

/** Text: header lines, a blank line, a body. Binary: 2-byte big-endian header length, headers, body. */
function parse(data: Buffer, isBinary: boolean): ReceivedMessage {
  let head: string;
  let body: string | Buffer;
  if (isBinary) {
    const n = data.readUInt16BE(0);
    head = data.subarray(2, 2 + n).toString("latin1");
    body = data.subarray(2 + n);
  } else {
    const text = data.toString("utf8");
    const split = text.indexOf("\r\n\r\n");
    head = split < 0 ? text : text.slice(0, split);
    body = split < 0 ? "" : text.slice(split + 4);
  }
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { path: headers.path ?? "", headers, body };
}
