import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import wavefile from "wavefile";
import { AudioError } from "../audio/types.js";
import { explainPlayerFailure, installedPlayers, playPcm, writeWav, type PlayerCommand } from "./playback.js";

const dir = mkdtempSync(join(tmpdir(), "talkcart-playback-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in player: a Node process running `script` with stdin wired like `play -`. */
const fake = (name: string, script: string, ...args: string[]): PlayerCommand => ({ name, command: process.execPath, args: ["-e", script, ...args] });
const COPY_STDIN_TO = "const fs=require('fs');const out=[];process.stdin.on('data',d=>out.push(d));process.stdin.on('end',()=>{fs.writeFileSync(process.argv[1],Buffer.concat(out));});";
const READ_THEN_HANG = "process.stdin.resume();process.stdin.on('end',()=>setInterval(()=>{},1000));";

const pcm = Int16Array.from({ length: 8000 }, (_, i) => Math.round(8000 * Math.sin(i / 5)));

describe("playPcm", () => {
  it.runIf(!existsSync("/dev/snd"))("without a sound card, the real players fail with a clear message, not a crash", async () => {
    const started = Date.now();
    const outcome = await playPcm(pcm).done;
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toBeInstanceOf(AudioError);
    const players = installedPlayers();
    if (players.length === 0) {
      expect(outcome.error.message).toMatch(/no audio player found.*apt-get install sox/);
    } else {
      // Measured here: sox `play` prints ALSA "cannot find card '0'" / "Unknown PCM default" and dies of SIGFPE.
      expect(outcome.error.message).toMatch(/^cannot play audio: sox play: no sound output device \(/);
      expect(outcome.error.message).toMatch(/--no-speak|--out reply\.wav/);
    }
    expect(outcome.error.message).not.toMatch(/\n|    at /); // one line, no stack trace
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("pipes the PCM as raw s16le to the player and reports the end", async () => {
    const out = join(dir, "played.raw");
    const playback = playPcm(pcm, { players: [fake("fake player", COPY_STDIN_TO, out)] });
    expect(await playback.done).toEqual({ status: "finished", player: "fake player" });
    const got = readFileSync(out);
    expect(got.length).toBe(pcm.length * 2);
    expect(new Int16Array(got.buffer, got.byteOffset, pcm.length)).toEqual(pcm);
  });

  it("stop() ends playback at once (barge-in)", async () => {
    const long = new Int16Array(16000 * 30);
    const playback = playPcm(long, { players: [fake("slow player", READ_THEN_HANG)] });
    await new Promise((r) => setTimeout(r, 200));
    const t = Date.now();
    playback.stop();
    playback.stop(); // twice is fine
    expect(await playback.done).toMatchObject({ status: "stopped", player: "slow player" });
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it("stop() before the player has started is fine too", async () => {
    const playback = playPcm(pcm, { players: [fake("fake", READ_THEN_HANG)] });
    playback.stop();
    expect((await playback.done).status).toBe("stopped");
  });

  it("falls back to the next player when one is not installed", async () => {
    const out = join(dir, "fallback.raw");
    const players = [{ name: "sox play", command: "talkcart-no-such-play", args: ["-"] }, fake("aplay stand-in", COPY_STDIN_TO, out)];
    expect(await playPcm(pcm, { players }).done).toEqual({ status: "finished", player: "aplay stand-in" });
    expect(readFileSync(out).length).toBe(pcm.length * 2);
  });

  it("no player at all: says what to install", async () => {
    const players = [{ name: "sox play", command: "talkcart-no-such-play", args: [] }, { name: "aplay", command: "talkcart-no-such-aplay", args: [] }];
    const outcome = await playPcm(pcm, { players }).done;
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") {
      expect(outcome.error.message).toMatch(/no audio player found \(tried talkcart-no-such-play, talkcart-no-such-aplay\)/);
      expect(outcome.error.message).toMatch(/apt-get install sox/);
    }
  });

  it("a player that dies without reading (EPIPE) is a failure, not a crash", async () => {
    const big = new Int16Array(16000 * 20);
    const dies = fake("broken", "process.stderr.write(\"ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default\\n\");process.exit(1)");
    const outcome = await playPcm(big, { players: [dies] }).done;
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") expect(outcome.error.message).toMatch(/broken: no sound output device \(ALSA: Unknown PCM default; exit code 1\)/);
  });

  it("a player that never finishes is killed after the audio's length plus a grace period", async () => {
    const outcome = await playPcm(pcm, { players: [fake("hung", READ_THEN_HANG)], graceMs: 300 }).done;
    expect(outcome.status).toBe("failed");
    if (outcome.status === "failed") expect(outcome.error.message).toMatch(/hung: did not finish within 1 s/);
  });
});

describe("explainPlayerFailure", () => {
  it("turns ALSA noise into one line", () => {
    const stderr = [
      "ALSA lib confmisc.c:855:(parse_card) cannot find card '0'",
      "ALSA lib conf.c:5180:(_snd_config_evaluate) function snd_func_card_inum returned error: No such file or directory",
      "ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM default",
    ].join("\n");
    expect(explainPlayerFailure(stderr, null, "SIGFPE")).toBe("no sound output device (ALSA: cannot find card '0'; died of SIGFPE)");
    expect(explainPlayerFailure("play FAIL sox: some other trouble\n", 2, null)).toBe("play FAIL sox: some other trouble (exit code 2)");
    expect(explainPlayerFailure("", 1, null)).toBe("exit code 1");
  });
});

describe("writeWav", () => {
  it("writes a 16 kHz mono 16-bit WAV that other readers accept (--out reply.wav)", async () => {
    const path = join(dir, "reply.wav");
    await writeWav(path, pcm);
    const wav = new wavefile.WaveFile(readFileSync(path));
    const fmt = wav.fmt as { sampleRate: number; numChannels: number; bitsPerSample: number; audioFormat: number };
    expect(fmt).toMatchObject({ sampleRate: 16000, numChannels: 1, bitsPerSample: 16, audioFormat: 1 });
    expect(Int16Array.from(wav.getSamples(false, Int16Array) as unknown as Int16Array)).toEqual(pcm);
  });

  it("an unwritable path is a clear AudioError", async () => {
    const missing = join(dir, "no-such-dir", "reply.wav");
    await expect(writeWav(missing, pcm)).rejects.toThrow(AudioError);
    await expect(writeWav(missing, pcm)).rejects.toThrow(`${missing}: cannot write WAV: no such file`);
    await expect(writeWav(dir, pcm)).rejects.toThrow(AudioError);
  });
});
