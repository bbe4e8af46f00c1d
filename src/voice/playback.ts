import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { AudioError, SAMPLE_RATE, type Pcm } from "../audio/types.js";

export { writeWav } from "../audio/wav.js";

/**
 * Plays 16 kHz mono s16le PCM through an external player reading raw audio from stdin: sox `play`,
 * else ALSA's `aplay`. A missing player, a missing sound card (measured here: `play` prints ALSA
 * "cannot find card '0'" / "Unknown PCM default" and dies of SIGFPE) or a hung device all end as a
 * `failed` outcome with one clear message — never an exception, an unhandled 'error' or EPIPE.
 */

export interface PlayerCommand {
  /** For messages: "sox play", "aplay". */
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** sox `play` (device through AUDIODEV) and ALSA `aplay` (device through -D), in that order. */
export function defaultPlayers(device?: string): PlayerCommand[] {
  const rate = String(SAMPLE_RATE);
  return [
    {
      name: "sox play",
      command: "play",
      args: ["-q", "-t", "raw", "-r", rate, "-e", "signed-integer", "-b", "16", "-c", "1", "-"],
      env: device ? { AUDIODEV: device } : undefined,
    },
    {
      name: "aplay",
      command: "aplay",
      args: ["-q", ...(device ? ["-D", device] : []), "-t", "raw", "-f", "S16_LE", "-r", rate, "-c", "1", "-"],
    },
  ];
}

export interface PlaybackOptions {
  /** Output device: `hw:1,0`, `plughw:1`, a PulseAudio sink for sox... Default: the system default. */
  device?: string;
  /** Players tried in order (tests inject fakes). Default `defaultPlayers(device)`. */
  players?: PlayerCommand[];
  /** A player still running this long after the audio should have ended is killed. Default 5 s. */
  graceMs?: number;
}

export type PlaybackOutcome =
  | { status: "finished"; player: string }
  | { status: "stopped"; player: string | null }
  | { status: "failed"; error: AudioError };

export interface Playback {
  /** Resolves when playback ends, however it ends; never rejects. */
  readonly done: Promise<PlaybackOutcome>;
  /** Stops at once (barge-in). Safe to call any time, more than once. */
  stop(): void;
}

export const PLAYER_INSTALL_HINT = "install sox (sudo apt-get install sox) or alsa-utils for aplay; or use --no-speak, or --out reply.wav to write the reply to a file";

type Attempt =
  | { kind: "ok" }
  | { kind: "stopped" }
  | { kind: "missing" }
  | { kind: "failed"; why: string };

/** The line of a player's complaint worth showing, and whether it means "no sound card". */
export function explainPlayerFailure(stderr: string, code: number | null, signal: NodeJS.Signals | null): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  const noDevice = lines.find((l) => /cannot find card|Unknown PCM|Cannot get card index|No such device|no soundcards found|Audio device.*(not|no)|Connection refused|can't open output/i.test(l));
  const how = signal ? `died of ${signal}` : `exit code ${code}`;
  if (noDevice) {
    const detail = noDevice.replace(/^ALSA lib [^:]+:\d+:\([^)]*\)\s*/, "ALSA: ");
    return `no sound output device (${detail}; ${how})`;
  }
  const last = lines.filter((l) => !/^ALSA lib /.test(l)).pop() ?? lines.pop();
  return last ? `${last} (${how})` : how;
}

function runPlayer(p: PlayerCommand, bytes: Buffer, durationMs: number, graceMs: number, onChild: (c: ChildProcess | null) => void, isStopped: () => boolean): Promise<Attempt> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(p.command, p.args, { stdio: ["pipe", "ignore", "pipe"], env: p.env ? { ...process.env, ...p.env } : process.env });
    } catch (e) {
      return resolve({ kind: "failed", why: (e as Error).message });
    }
    onChild(child);
    let stderr = "";
    let settled = false;
    let hung = false;
    const settle = (a: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(watchdog);
      onChild(null);
      resolve(a);
    };
    const watchdog = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, durationMs + graceMs);
    child.stderr!.on("data", (d: Buffer) => { if (stderr.length < 8192) stderr += d.toString("utf8"); });
    // A player that dies before reading everything makes our write fail with EPIPE: its exit says why.
    child.stdin!.on("error", () => {});
    child.on("error", (e: NodeJS.ErrnoException) => {
      settle(e.code === "ENOENT" ? { kind: "missing" } : { kind: "failed", why: e.message });
    });
    child.on("close", (code, signal) => {
      if (isStopped()) return settle({ kind: "stopped" });
      if (hung) return settle({ kind: "failed", why: `did not finish within ${Math.round((durationMs + graceMs) / 1000)} s (output device busy or blocked?)` });
      if (code === 0) return settle({ kind: "ok" });
      settle({ kind: "failed", why: explainPlayerFailure(stderr, code, signal) });
    });
    child.stdin!.end(bytes);
  });
}

/** Plays PCM (16 kHz mono 16-bit) and returns at once with a handle to stop it and await its end. */
export function playPcm(pcm: Pcm, opts: PlaybackOptions = {}): Playback {
  const players = opts.players ?? defaultPlayers(opts.device);
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const durationMs = (pcm.length / SAMPLE_RATE) * 1000;
  let stopped = false;
  let current: ChildProcess | null = null;
  let currentName: string | null = null;

  const attemptAll = async (): Promise<PlaybackOutcome> => {
    const missing: string[] = [];
    const failures: string[] = [];
    for (const p of players) {
      if (stopped) return { status: "stopped", player: currentName };
      currentName = p.name;
      const a = await runPlayer(p, bytes, durationMs, opts.graceMs ?? 5_000, (c) => (current = c), () => stopped);
      if (a.kind === "ok") return { status: "finished", player: p.name };
      if (a.kind === "stopped" || stopped) return { status: "stopped", player: p.name };
      if (a.kind === "missing") missing.push(p.command);
      else failures.push(`${p.name}: ${a.why}`);
    }
    if (failures.length === 0) {
      return { status: "failed", error: new AudioError(`cannot play audio: no audio player found (tried ${missing.join(", ") || "none"})`, PLAYER_INSTALL_HINT) };
    }
    const notInstalled = missing.length ? `; not installed: ${missing.join(", ")}` : "";
    const noDevice = failures.some((f) => f.includes("no sound output device"));
    return {
      status: "failed",
      error: new AudioError(
        `cannot play audio: ${failures.join("; ")}${notInstalled}`,
        noDevice ? "check the sound card (aplay -l) or choose another output device; or use --no-speak, or --out reply.wav" : "use --no-speak, or --out reply.wav to write the reply to a file",
      ),
    };
  };

  const done = attemptAll().catch((e: unknown): PlaybackOutcome => ({
    status: "failed",
    error: e instanceof AudioError ? e : new AudioError(`cannot play audio: ${(e as Error).message}`),
  }));

  return {
    done,
    stop() {
      if (stopped) return;
      stopped = true;
      const child = current;
      if (!child) return;
      child.kill("SIGTERM");
      // A player that ignores SIGTERM (a wedged device) gets SIGKILL a moment later.
      const escalate = setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); }, 1_000);
      escalate.unref();
    },
  };
}

/** Which of the default players are on PATH (for `talkcart doctor`), without running them. */
export function installedPlayers(pathEnv = process.env.PATH ?? ""): string[] {
  return defaultPlayers().map((p) => p.command).filter((cmd) => {
    const candidates = isAbsolute(cmd) ? [cmd] : pathEnv.split(delimiter).filter(Boolean).map((d) => join(d, cmd));
    return candidates.some((c) => {
      try {
        accessSync(c, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  });
}
