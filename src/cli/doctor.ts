import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { voskStatus } from "../speech/vosk.js";
import { AZURE_ENV_HELP, azureSpeechSettings } from "../speech/azure-service.js";
import { DEFAULT_DICT, DEFAULT_HMM } from "../speech/jsgf.js";
import { INSTALL_HINT } from "../speech/pocketsphinx-native.js";
import { ADAPTATION_HINT, adaptationTools, enrollmentInfo } from "../speech/speaker-adaptation.js";
import { createWakeWordSpotter, DEFAULT_WAKE_WORD } from "../speech/wake-word.js";
import { probeMicrophone } from "../audio/microphone.js";
import { SAMPLE_RATE } from "../audio/types.js";
import { playPcm } from "../voice/playback.js";
import { which } from "../which.js";

/** The areas of `talkcart doctor`, in the order its lines are listed. */
export const AREAS = ["capture", "engine", "voice", "playback"] as const;

/** One line of `talkcart doctor`: what was looked for, whether it is there, and how to get it. */
export interface Check {
  area: (typeof AREAS)[number];
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function run(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 5000 });
  } catch {
    return null;
  }
}

const LIB_DIRS = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf", "/usr/lib", "/usr/local/lib"];
const findLib = (name: string) => LIB_DIRS.map((d) => `${d}/${name}`).find((p) => existsSync(p)) ?? null;

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/**
 * Capture devices from `arecord -l`, else from the kernel's list (/proc/asound/pcm, lines like
 * "01-00: USB Audio : USB Audio : playback 1 : capture 1"), so a machine with sox but without
 * alsa-utils still sees its microphone; null when neither can be read.
 */
export function captureDevices(arecordList: string | null, procPcm: string | null): string[] | null {
  if (arecordList !== null) return arecordList.split("\n").filter((l) => l.startsWith("card "));
  if (procPcm === null) return null; // neither source: unknown, not "none"
  return procPcm.split("\n").flatMap((line) => {
    const m = /^(\d+)-(\d+): ([^:]*?)\s*:.*\bcapture \d+/.exec(line);
    return m ? [`card ${Number(m[1])}, device ${Number(m[2])}: ${m[3]} (hw:${Number(m[1])},${Number(m[2])})`] : [];
  });
}

/**
 * What voice needs, checked on this machine: capture tools and devices, engines and models, voices,
 * players. `enrolled`: the speaker-adapted model in use, if any (see speaker-adaptation.ts enrolledModel).
 */
export function doctor(env = process.env, asoundDir = "/proc/asound", enrolled?: string): Check[] {
  const checks: Check[] = [];
  const sox = which("rec") ?? which("sox");
  checks.push({ area: "capture", name: "sox / rec", ok: !!sox, detail: sox ?? "not found", fix: sox ? undefined : "apt-get install sox libsox-fmt-all" });
  const arecord = which("arecord");
  checks.push({ area: "capture", name: "arecord", ok: !!arecord, detail: arecord ?? "not found", fix: arecord ? undefined : "apt-get install alsa-utils" });
  const devices = captureDevices(arecord ? run("arecord", ["-l"]) : null, readOrNull(`${asoundDir}/pcm`));
  checks.push({
    area: "capture", name: "capture devices", ok: !!devices?.length,
    detail: devices === null ? "cannot list devices (no arecord, no /proc/asound)" : devices.length ? devices.join("; ") : "no sound card with a capture device found",
    fix: devices?.length ? undefined : "connect a USB microphone (see device/README.md), or use typed mode / `talkcart replay file.wav`",
  });

  // The same library and model the engine and the wake word load (TALKCART_POCKETSPHINX_LIB / _MODEL / _DICT).
  const psLib = env.TALKCART_POCKETSPHINX_LIB;
  const ps = psLib ? (psLib.includes("/") ? (existsSync(psLib) ? psLib : null) : findLib(psLib)) : findLib("libpocketsphinx.so.3");
  const psModel = env.TALKCART_POCKETSPHINX_MODEL ?? DEFAULT_HMM;
  checks.push({ area: "engine", name: "pocketsphinx (offline)", ok: !!ps && existsSync(psModel), detail: ps ? `${ps}; model ${existsSync(psModel) ? psModel : `missing (${psModel})`}` : `${psLib ?? "libpocketsphinx.so.3"} not found`, fix: ps && existsSync(psModel) ? undefined : INSTALL_HINT });
  // Wake word: pocketsphinx keyword spotting for the default word, started (and stopped) for real.
  let wake: { ok: boolean; detail: string };
  try {
    const spotter = createWakeWordSpotter({ word: DEFAULT_WAKE_WORD, hmm: psModel, dict: env.TALKCART_POCKETSPHINX_DICT ?? DEFAULT_DICT });
    void spotter.close();
    wake = { ok: true, detail: `pocketsphinx keyword spotting (listen --wake ${spotter.word})` };
  } catch (e) {
    wake = { ok: false, detail: (e as Error).message };
  }
  checks.push({ area: "engine", name: `wake word "${DEFAULT_WAKE_WORD}"`, ok: wake.ok, detail: wake.detail, fix: wake.ok ? undefined : `${INSTALL_HINT}; without it, push-to-talk (listen --ptt)` });
  // Adaptation to the speaker's voice (talkcart enroll): the tools, and the model it made here.
  const { missing } = adaptationTools(env.TALKCART_SPHINXTRAIN_DIR);
  const info = enrolled ? enrollmentInfo(enrolled) : null;
  checks.push({
    area: "engine", name: "voice adaptation", ok: missing.length === 0,
    detail: missing.length ? `${missing.join(", ")} not found` : info ? `adapted to your voice: ${enrolled} (${info.readings} sentences, ${info.adaptedAt.slice(0, 10)})` : "SphinxTrain present; not enrolled (talkcart enroll)",
    fix: missing.length ? ADAPTATION_HINT : undefined,
  });
  for (const locale of ["en", "de"]) {
    const vosk = voskStatus(locale, env);
    checks.push({ area: "engine", name: `vosk ${locale} (offline)`, ok: vosk.ok, detail: vosk.ok ? `${vosk.model}` : vosk.problem ?? "no model", fix: vosk.ok ? undefined : "see `talkcart models` (TALKCART_VOSK_MODEL)" });
  }
  const settings = azureSpeechSettings(env);
  const azure = "missing" in settings
    ? { ok: false, detail: settings.missing }
    : { ok: true, detail: settings.region ? `region ${settings.region}` : String(settings.endpoint ?? settings.host) };
  checks.push({ area: "engine", name: "azure (cloud)", ok: azure.ok, detail: azure.detail, fix: azure.ok ? undefined : AZURE_ENV_HELP });

  const espeak = which("espeak-ng");
  const voices = espeak ? run("espeak-ng", ["--voices"]) ?? "" : "";
  for (const [locale, voice] of [["en", "en-us"], ["de", "de"]] as const) {
    const ok = !!espeak && new RegExp(`\\s${voice}\\s`).test(voices);
    checks.push({ area: "voice", name: `espeak-ng ${locale} (${voice})`, ok, detail: ok ? "installed" : espeak ? "voice missing" : "espeak-ng not found", fix: ok ? undefined : "apt-get install espeak-ng" });
  }
  const player = which("play") ?? which("aplay");
  checks.push({ area: "playback", name: "play / aplay", ok: !!player, detail: player ?? "not found", fix: player ? undefined : "apt-get install sox (play) or alsa-utils (aplay)" });
  return checks;
}

/**
 * What a list of tools cannot tell, tried for real on the device (`--device`, else the default):
 * whether audio arrives from the microphone (~0.1 s of it; a muted capture delivers only zeros),
 * and whether a reply plays (0.1 s of silence: nothing to hear).
 */
export async function deviceChecks(device?: string): Promise<Check[]> {
  const checks: Check[] = [];
  const mic = await probeMicrophone({ device });
  if (!mic.ok) checks.push({ area: "capture", name: "microphone", ok: false, detail: mic.error.problem, fix: mic.error.hint ?? "connect a USB microphone, or pass --device" });
  else if (mic.silent) checks.push({ area: "capture", name: "microphone", ok: false, detail: `audio arrives from the ${mic.description}, but only zeros: its capture is muted or at level 0`, fix: "alsamixer (F6: the sound card, F4: capture; space turns capture on, arrows raise the level)" });
  else checks.push({ area: "capture", name: "microphone", ok: true, detail: `audio arrives from the ${mic.description}` });
  const played = await playPcm(new Int16Array(SAMPLE_RATE / 10), { device }).done;
  if (played.status === "failed") checks.push({ area: "playback", name: "loudspeaker", ok: false, detail: played.error.problem, fix: played.error.hint ?? "use --no-speak, or --out reply.wav" });
  else checks.push({ area: "playback", name: "loudspeaker", ok: true, detail: `a reply plays through ${played.player}` });
  return checks;
}

/** The checks of every area, area by area (AREAS). */
export function byArea(checks: Check[]): Check[] {
  return [...checks].sort((a, b) => AREAS.indexOf(a.area) - AREAS.indexOf(b.area));
}

export function formatChecks(checks: Check[]): string {
  return checks.map((c) => `${c.ok ? "ok     " : "missing"}  ${c.area.padEnd(8)} ${c.name.padEnd(24)} ${c.detail}${c.fix ? `\n         -> ${c.fix}` : ""}`).join("\n");
}
