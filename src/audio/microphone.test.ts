import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { availableRecorders, microphoneSource, probeMicrophone, type MicrophoneOptions } from "./microphone.js";
import { AudioError, type AudioSource, type Pcm } from "./types.js";

const root = mkdtempSync(join(tmpdir(), "talkcart-mic-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** One second of a known signal, as the raw s16le a recorder would print. */
const SIGNAL = Int16Array.from({ length: 16_000 }, (_, i) => Math.round(8000 * Math.sin(i / 5)) + (i % 7));
const RAW = join(root, "signal.raw");
writeFileSync(RAW, Buffer.from(SIGNAL.buffer));
const ZEROS = join(root, "zeros.raw");
writeFileSync(ZEROS, Buffer.alloc(6400));

let binCount = 0;
/**
 * A directory holding fake recorder programs (shell scripts under the real names), and the options
 * that put it first on PATH. Each script logs its arguments, AUDIODEV and pid for the assertions.
 */
function fakeBin(scripts: Partial<Record<"sox" | "rec" | "arecord", string>>): { dir: string; env: NodeJS.ProcessEnv; log: () => string; pid: () => number } {
  const dir = join(root, `bin${++binCount}`);
  mkdirSync(dir);
  const logFile = join(dir, "log");
  for (const [name, body] of Object.entries(scripts)) {
    const file = join(dir, name);
    writeFileSync(file, `#!/bin/sh\necho "args: $*" >> "${logFile}"\necho "AUDIODEV=$AUDIODEV" >> "${logFile}"\necho "pid=$$" >> "${logFile}"\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return {
    dir,
    env: { PATH: `${dir}:${process.env.PATH}` },
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    pid: () => Number(/pid=(\d+)/.exec(readFileSync(logFile, "utf8"))?.[1]),
  };
}

/** Prints the signal, then keeps "recording" until killed, like a real microphone. */
const STREAMING = `cat "${RAW}"\nexec sleep 600`;
/** arecord as measured: exits 1 on SIGTERM (so a naive stop() is reported as a failure). */
const ARECORD_EXIT_1_ON_TERM = `trap 'exit 1' TERM\ncat "${RAW}"\nwhile :; do sleep 0.05; done`;

async function readSamples(source: AudioSource, n: number): Promise<Pcm> {
  const out = new Int16Array(n);
  let got = 0;
  for await (const chunk of source.chunks()) {
    out.set(chunk.subarray(0, n - got), got);
    got += Math.min(chunk.length, n - got);
    if (got === n) break; // ends the iteration: capture stops
  }
  return out.subarray(0, got);
}

async function captureError(options: MicrophoneOptions): Promise<AudioError> {
  const source = microphoneSource(options);
  const error = await (async () => {
    for await (const _ of source.chunks()) {
      // a failing recorder yields nothing
    }
  })().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AudioError);
  return error as AudioError;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("microphone with a fake recorder on PATH", () => {
  it("captures 16 kHz mono s16le from sox, passing the device as AUDIODEV, and stops it", async () => {
    const bin = fakeBin({ sox: STREAMING });
    const source = microphoneSource({ recorder: "sox", device: "hw:2,0", env: bin.env });
    expect(source).toMatchObject({ realtime: true, description: "microphone (sox, device hw:2,0)" });
    const pcm = await readSamples(source, SIGNAL.length);
    expect(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).equals(Buffer.from(SIGNAL.buffer))).toBe(true);
    expect(bin.log()).toContain("args: --default-device --no-show-progress --rate 16000 --channels 1 --encoding signed-integer --bits 16 --type raw -");
    expect(bin.log()).toContain("AUDIODEV=hw:2,0");
    expect(alive(bin.pid())).toBe(false); // ending the iteration stopped the recorder
    await source.close();
  });

  it("passes the device to rec through AUDIODEV (the library gives rec none)", async () => {
    const bin = fakeBin({ rec: STREAMING });
    await readSamples(microphoneSource({ recorder: "rec", device: "plughw:CARD=USB", env: bin.env }), 320);
    expect(bin.log()).toContain("args: -q -r 16000 -c 1 -e signed-integer -b 16 -t raw -");
    expect(bin.log()).toContain("AUDIODEV=plughw:CARD=USB");
  });

  it("treats arecord's exit 1 on SIGTERM as a normal stop, not an error", async () => {
    const bin = fakeBin({ arecord: ARECORD_EXIT_1_ON_TERM });
    const source = microphoneSource({ recorder: "arecord", device: "hw:1,0", env: bin.env });
    const pcm = await readSamples(source, 8000);
    expect(Array.from(pcm.subarray(0, 10))).toEqual(Array.from(SIGNAL.subarray(0, 10)));
    expect(bin.log()).toContain("args: -D hw:1,0 -q -r 16000 -c 1 -t raw -f S16_LE -");
    await source.close();
    // Also through close() while a consumer is still reading.
    const again = microphoneSource({ recorder: "arecord", env: bin.env });
    const reading = (async () => {
      let n = 0;
      for await (const c of again.chunks()) n += c.length;
      return n;
    })();
    await new Promise((r) => setTimeout(r, 200));
    await again.close();
    await expect(reading).resolves.toBeGreaterThan(0);
  });

  it("ends the stream normally when the recorder exits 0", async () => {
    const bin = fakeBin({ sox: `cat "${RAW}"` });
    let n = 0;
    for await (const c of microphoneSource({ recorder: "sox", env: bin.env }).chunks()) n += c.length;
    expect(n).toBe(SIGNAL.length);
  });

  it("explains a busy device, a missing named device and an unknown failure", async () => {
    const busy = fakeBin({ arecord: `echo "arecord: main:850: audio open error: Device or resource busy" >&2\nexit 1` });
    const e1 = await captureError({ recorder: "arecord", env: busy.env });
    expect(e1.message).toBe("cannot capture audio: the default capture device is busy (arecord: audio open error: Device or resource busy) — close the other program using the microphone");

    const missing = fakeBin({ sox: `echo "sox FAIL sox: Sorry, there is no default audio device configured" >&2\nexit 1` });
    const e2 = await captureError({ recorder: "sox", device: "hw:9", env: missing.env });
    expect(e2.message).toMatch(/^cannot capture audio: capture device "hw:9" was not found/);
    expect(e2.hint).toMatch(/pass another --device/);

    const odd = fakeBin({ sox: `echo "sox FAIL formats: something unexpected" >&2\nexit 2` });
    const e3 = await captureError({ recorder: "sox", env: odd.env });
    expect(e3.message).toMatch(/^cannot capture audio: sox exited with code 2: something unexpected — try it by hand: rec -r 16000 -c 1 test.wav$/);
  });

  it("says when the recorder is missing or cannot be run", async () => {
    const empty = fakeBin({});
    const e1 = await captureError({ recorder: "sox", env: { PATH: empty.dir } });
    expect(e1.message).toBe('cannot capture audio: "sox" is not installed — install sox: apt-get install sox');
    const e2 = await captureError({ recorder: "arecord", env: { PATH: empty.dir } });
    expect(e2.hint).toBe("install alsa-utils: apt-get install alsa-utils");
    const e3 = await captureError({ env: { PATH: empty.dir } }); // no recorder chosen, none found
    expect(e3.message).toBe("cannot capture audio: neither sox nor arecord is installed — install sox: apt-get install sox");

    const notExecutable = join(root, "noexec");
    mkdirSync(notExecutable);
    writeFileSync(join(notExecutable, "sox"), "#!/bin/sh\n");
    chmodSync(join(notExecutable, "sox"), 0o644);
    const e4 = await captureError({ recorder: "sox", env: { PATH: notExecutable } });
    expect(e4.message).toMatch(/^cannot capture audio: "sox" (is not installed|cannot be run)/);
  });

  it("lists the recorders on PATH", async () => {
    const bin = fakeBin({ arecord: "exit 0", rec: "exit 0" });
    expect(await availableRecorders({ PATH: bin.dir })).toEqual(["rec", "arecord"]);
  });
});

describe("probeMicrophone", () => {
  it("says yes when audio arrives, and whether it is all zeros", async () => {
    const bin = fakeBin({ sox: STREAMING });
    const ok = await probeMicrophone({ env: bin.env });
    expect(ok).toEqual({ ok: true, recorder: "sox", description: "microphone (sox, default device)", silent: false });
    expect(alive(bin.pid())).toBe(false);
    const zeros = fakeBin({ arecord: `cat "${ZEROS}"\nexec sleep 600` });
    expect(await probeMicrophone({ recorder: "arecord", env: zeros.env })).toMatchObject({ ok: true, silent: true });
  });

  it("says no, with the reason, when the recorder fails, is missing or stays mute", async () => {
    const failing = fakeBin({ sox: `echo "sox FAIL sox: Sorry, there is no default audio device configured" >&2\nexit 1` });
    const r1 = await probeMicrophone({ env: failing.env });
    expect(r1.ok).toBe(false);
    if (!r1.ok) expect(r1.error.hint).toBe("no capture device: connect a USB microphone or pass --device");

    const r2 = await probeMicrophone({ recorder: "rec", env: { PATH: fakeBin({}).dir } });
    expect(r2.ok === false && r2.error.message).toBe('cannot capture audio: "rec" is not installed — install sox: apt-get install sox');

    const mute = fakeBin({ sox: "exec sleep 600" });
    const t = performance.now();
    const r3 = await probeMicrophone({ env: mute.env, timeoutMs: 300 });
    expect(performance.now() - t).toBeLessThan(2000);
    expect(r3.ok === false && r3.error.message).toMatch(/no sound arrived from the microphone \(sox, default device\) within 300 ms/);
    expect(alive(mute.pid())).toBe(false);
  });
});

// This machine has no sound card: the real sox and rec fail, and that must be a clear message.
const noSoundCard = !existsSync("/dev/snd");
const has = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

describe.runIf(noSoundCard)("the real recorders on a machine without a sound card", () => {
  it.runIf(has("sox"))("sox: no capture device, with the hint, quickly", async () => {
    const t = performance.now();
    const r = await probeMicrophone({ recorder: "sox" });
    expect(performance.now() - t).toBeLessThan(1500);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.message).toBe(
      "cannot capture audio: no capture device found (sox: Sorry, there is no default audio device configured) — no capture device: connect a USB microphone or pass --device",
    );
    const e = await captureError({ recorder: "sox", device: "hw:3,0" });
    expect(e.message).toMatch(/^cannot capture audio: capture device "hw:3,0" was not found \(sox: /);
  });

  it.runIf(has("rec"))("rec: no capture device, with the hint", async () => {
    const e = await captureError({ recorder: "rec" });
    expect(e.hint).toBe("no capture device: connect a USB microphone or pass --device");
  });

  it("arecord: whatever is installed, an AudioError and no crash", async () => {
    const e = await captureError({ recorder: "arecord" });
    expect(e.message).toMatch(has("arecord") ? /no capture device found|not found/ : /"arecord" is not installed/);
  });

  it("in a separate process: every failure is one line on stderr, and the process lives on", () => {
    const script = join(root, "probe-all.mts"); // .mts: ESM (top-level await) outside the package
    const mic = join(import.meta.dirname, "microphone.ts");
    writeFileSync(
      script,
      `import { probeMicrophone, microphoneSource } from ${JSON.stringify(mic)};
for (const recorder of ["sox", "rec", "arecord"] as const) {
  const r = await probeMicrophone({ recorder });
  console.error(r.ok ? "ok " + recorder : r.error.message);
  try { for await (const _ of microphoneSource({ recorder }).chunks()) {} } catch (e) { console.error("iteration: " + (e as Error).message); }
}
const missing = microphoneSource({ recorder: "sox", env: { PATH: "/nonexistent" } });
try { for await (const _ of missing.chunks()) {} } catch (e) { console.error("iteration: " + (e as Error).message); }
await new Promise((r) => setTimeout(r, 300)); // late 'error'/'close' events would land here
console.log("still alive");
`,
    );
    const r = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: join(import.meta.dirname, "../.."), encoding: "utf8", timeout: 20_000 });
    expect(r.stdout.trim(), r.stderr).toBe("still alive");
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(7);
    for (const line of lines) expect(line).toMatch(/^(iteration: )?cannot capture audio: .+ — .+/);
    expect(r.stderr).not.toMatch(/\n\s+at |ERR_UNHANDLED_ERROR|node:internal/);
  });
});
