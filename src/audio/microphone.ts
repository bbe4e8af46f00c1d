/**
 * Live capture through node-record-lpcm16 (which runs sox, rec or arecord), made safe to use.
 *
 * Measured on these machines (shared/notes/speech-measurements.md): without a sound card the recorder
 * exits 1 and the library reports it as a *string* on the stream's 'error'; with no 'error' listener
 * the process dies (ERR_UNHANDLED_ERROR); a missing binary is an unhandled ENOENT on the child process
 * (also fatal); and `stop()` on arecord is reported as an error (exit 1 on SIGTERM). Here every one of
 * these ends as an AudioError with a one-line message and a hint, thrown from the source's iterator
 * or returned by `probeMicrophone()`; stopping on purpose is never an error.
 */
import { createRequire } from "node:module";
import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { S16leDecoder } from "./sources.js";
import { AudioError, SAMPLE_RATE, type AudioSource, type Pcm } from "./types.js";
import { which } from "../which.js";

/** The part of node-record-lpcm16 we use (it ships no types). */
interface Recording {
  process: ChildProcess;
  stream(): Readable;
  stop(): void;
}
interface RecordOptions {
  sampleRate: number;
  channels: number;
  audioType: string;
  recorder: string;
  device?: string;
}
const require = createRequire(import.meta.url);
const { record } = require("node-record-lpcm16") as { record: (options: RecordOptions) => Recording };

export type RecorderName = "sox" | "rec" | "arecord";
export const RECORDERS: readonly RecorderName[] = ["sox", "rec", "arecord"];

const INSTALL_HINT: Record<RecorderName, string> = {
  sox: "install sox: apt-get install sox",
  rec: "install sox: apt-get install sox",
  arecord: "install alsa-utils: apt-get install alsa-utils",
};
const NO_DEVICE_HINT = "no capture device: connect a USB microphone or pass --device";

export interface MicrophoneOptions {
  /** Capture program (default: the first of sox, arecord found on PATH). */
  recorder?: RecorderName;
  /** Capture device: ALSA name such as "hw:1,0" or "plughw:CARD=Device" (default: the system default). */
  device?: string;
  /**
   * Extra environment for the capture program, e.g. `{ PATH: "/tmp/fake-bin:" + process.env.PATH }`
   * so tests can run a fake recorder under the real name. Merged over process.env.
   */
  env?: NodeJS.ProcessEnv;
}

/** Which capture programs are on PATH (for `talkcart doctor` and the default choice). */
export async function availableRecorders(env: NodeJS.ProcessEnv = {}): Promise<RecorderName[]> {
  return RECORDERS.filter((name) => which(name, { ...process.env, ...env }) !== null);
}

/** sox (and rec) are tried first: they resample if the card cannot do 16 kHz itself. */
async function chooseRecorder(options: MicrophoneOptions): Promise<RecorderName> {
  if (options.recorder) return options.recorder;
  const found = await availableRecorders(options.env);
  if (found.includes("sox")) return "sox";
  if (found.includes("arecord")) return "arecord";
  if (found.includes("rec")) return "rec";
  throw new AudioError("cannot capture audio: neither sox nor arecord is installed", INSTALL_HINT.sox);
}

function describe(recorder: RecorderName | undefined, device: string | undefined): string {
  return `microphone (${recorder ?? "auto"}, ${device ? `device ${device}` : "default device"})`;
}

/**
 * Runs `fn` with `overlay` applied to process.env. child_process.spawn copies process.env and looks
 * the program up on its PATH synchronously, and the library spawns inside `record()`, so this is the
 * only way to hand it an environment; nothing else can run in between.
 */
function withEnv<T>(overlay: NodeJS.ProcessEnv, fn: () => T): T {
  const saved: Record<string, string | undefined> = {};
  for (const key of Object.keys(overlay)) {
    saved[key] = process.env[key];
    if (overlay[key] === undefined) delete process.env[key];
    else process.env[key] = overlay[key];
  }
  try {
    return fn();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

/** Turns what the recorder printed into a message and a hint a person can act on. */
function explainExit(recorder: RecorderName, device: string | undefined, code: number | null, signal: string | null, stderr: string): AudioError {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  // ALSA's own "ALSA lib ..." chatter precedes the program's verdict: quote the verdict.
  const last = [...lines].reverse().find((l) => !l.startsWith("ALSA lib")) ?? lines.at(-1) ?? "";
  // "sox FAIL sox: Sorry, …" / "arecord: main:850: audio open error: …" -> the words after the prefixes.
  const verdict = last.replace(/^\S+ FAIL \S+:\s*/, "").replace(/^arecord: \w+:\d+:\s*/, "");
  const said = verdict ? `: ${verdict}` : "";
  const text = stderr.toLowerCase();
  const where = device ? `capture device "${device}"` : "the default capture device";
  if (/no default audio device|cannot find card|unknown pcm|audio open error: no such|no such device|cannot get card index|can't open input|no such file or directory/.test(text)) {
    return new AudioError(
      device ? `cannot capture audio: ${where} was not found (${recorder}${said})` : `cannot capture audio: no capture device found (${recorder}${said})`,
      device ? "no capture device: check the name in /proc/asound/cards, connect a USB microphone or pass another --device" : NO_DEVICE_HINT,
    );
  }
  if (/busy/.test(text)) {
    return new AudioError(`cannot capture audio: ${where} is busy (${recorder}${said})`, "close the other program using the microphone");
  }
  if (/permission denied/.test(text)) {
    return new AudioError(`cannot capture audio: permission denied on ${where} (${recorder}${said})`, "add the user to the audio group: sudo usermod -aG audio $USER");
  }
  const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
  return new AudioError(`cannot capture audio: ${recorder} ${how}${said}`, `try it by hand: ${recorder === "arecord" ? "arecord -f S16_LE -r 16000 -c 1 test.wav" : "rec -r 16000 -c 1 test.wav"}`);
}

interface Capture extends AsyncIterator<Pcm> {
  stop(): Promise<void>;
}

/**
 * Starts the recorder and returns an iterator over its PCM. Every failure (spawn, exit, stream) is
 * collected into one AudioError that the next `next()` throws; `stop()`/`return()` end it quietly.
 */
function startCapture(recorder: RecorderName, options: MicrophoneOptions): Capture {
  const device = options.device;
  const queue: Pcm[] = [];
  const decoder = new S16leDecoder();
  let failure: AudioError | undefined;
  let finished = false;
  let stopping = false;
  let stderr = "";
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const fail = (error: AudioError) => {
    if (!stopping && !failure && !finished) failure = error;
    finished = true;
    notify();
  };

  let recording: Recording | undefined;
  const overlay: NodeJS.ProcessEnv = { ...options.env };
  if (device && recorder === "rec") overlay.AUDIODEV = device; // the library passes no device to rec
  try {
    recording = withEnv(overlay, () =>
      record({ sampleRate: SAMPLE_RATE, channels: 1, audioType: "raw", recorder, device }),
    );
  } catch (e) {
    fail(new AudioError(`cannot capture audio with ${recorder}: ${(e as Error).message}`, INSTALL_HINT[recorder]));
  }

  let exited: Promise<void> = Promise.resolve();
  if (recording) {
    const child = recording.process;
    const stream = recording.stream();
    exited = new Promise((resolve) => child.once("close", () => resolve()));
    // Listening here is what keeps the library's errors from killing the process.
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") fail(new AudioError(`cannot capture audio: "${recorder}" is not installed`, INSTALL_HINT[recorder]));
      else if (e.code === "EACCES") fail(new AudioError(`cannot capture audio: "${recorder}" cannot be run (permission denied)`, INSTALL_HINT[recorder]));
      else fail(new AudioError(`cannot capture audio with ${recorder}: ${e.message}`));
    });
    stream.on("error", () => {
      // The library's string "… has exited with error code N": the 'close' handler below explains it.
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4000);
    });
    stream.on("data", (chunk: Buffer) => {
      if (stopping) return;
      const pcm = decoder.push(chunk);
      if (pcm.length > 0) {
        queue.push(pcm);
        notify();
      }
    });
    child.on("close", (code, signal) => {
      if (code === 0 || stopping) {
        finished = true;
        notify();
      } else if (!failure) {
        fail(explainExit(recorder, device, code, signal, stderr));
      }
    });
  }

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    finished = true;
    queue.length = 0;
    notify();
    const child = recording?.process;
    if (!child || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    child.kill("SIGTERM");
    // A recorder that ignores SIGTERM must still not outlive us.
    const timer = setTimeout(() => child.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(timer);
  };

  return {
    async next(): Promise<IteratorResult<Pcm>> {
      for (;;) {
        const chunk = queue.shift();
        if (chunk) return { value: chunk, done: false };
        if (failure) {
          const error = failure;
          failure = undefined; // thrown once; afterwards the iterator is simply done
          await stop();
          throw error;
        }
        if (finished) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async return(): Promise<IteratorResult<Pcm>> {
      await stop();
      return { value: undefined, done: true };
    },
    stop,
  };
}

/**
 * The microphone as an AudioSource. Capture starts when `chunks()` is iterated and stops when that
 * iteration ends or `close()` is called; failures are thrown from the iteration as AudioErrors.
 */
export function microphoneSource(options: MicrophoneOptions = {}): AudioSource {
  const captures = new Set<Capture>();
  let closed = false;
  return {
    description: describe(options.recorder, options.device),
    realtime: true,
    chunks(): AsyncIterable<Pcm> {
      return {
        [Symbol.asyncIterator]() {
          let capture: Capture | undefined;
          const begin = async () => {
            if (closed) return undefined;
            capture = startCapture(await chooseRecorder(options), options);
            captures.add(capture);
            return capture;
          };
          let starting: Promise<Capture | undefined> | undefined;
          let over = false;
          return {
            async next(): Promise<IteratorResult<Pcm>> {
              if (over) return { value: undefined, done: true };
              try {
                starting ??= begin();
                const c = await starting;
                if (!c || closed) return { value: undefined, done: true };
                const r = await c.next();
                if (r.done) over = true;
                return r;
              } catch (e) {
                over = true; // an error is reported once; the iteration is then finished
                throw e;
              }
            },
            async return() {
              const c = await starting?.catch(() => undefined);
              if (c) {
                captures.delete(c);
                await c.stop();
              }
              return { value: undefined, done: true };
            },
          };
        },
      };
    },
    async close() {
      closed = true;
      await Promise.all([...captures].map((c) => c.stop()));
      captures.clear();
    },
  };
}

export type ProbeResult =
  | { ok: true; recorder: RecorderName; description: string; /** all samples zero: muted or a null device */ silent: boolean }
  | { ok: false; error: AudioError };

/**
 * Tells quickly whether capture works: starts the recorder, waits for ~100 ms of audio (or a
 * failure, or `timeoutMs`, default 2000), then stops it. Never throws.
 */
export async function probeMicrophone(options: MicrophoneOptions & { timeoutMs?: number } = {}): Promise<ProbeResult> {
  let recorder: RecorderName;
  try {
    recorder = await chooseRecorder(options);
  } catch (e) {
    return { ok: false, error: e as AudioError };
  }
  const description = describe(recorder, options.device);
  const capture = startCapture(recorder, options);
  const wanted = SAMPLE_RATE / 10;
  let got = 0;
  let silent = true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), options.timeoutMs ?? 2000)));
  try {
    while (got < wanted) {
      const r = await Promise.race([capture.next(), timeout]);
      if (r === "timeout") {
        return {
          ok: false,
          error: new AudioError(`cannot capture audio: no sound arrived from the ${description} within ${options.timeoutMs ?? 2000} ms`, NO_DEVICE_HINT),
        };
      }
      if (r.done) {
        return { ok: false, error: new AudioError(`cannot capture audio: ${recorder} ended without delivering audio`, NO_DEVICE_HINT) };
      }
      got += r.value.length;
      if (silent && r.value.some((v) => v !== 0)) silent = false;
    }
    return { ok: true, recorder, description, silent };
  } catch (e) {
    const error = e instanceof AudioError ? e : new AudioError(`cannot capture audio: ${(e as Error).message}`);
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
    await capture.stop();
  }
}
