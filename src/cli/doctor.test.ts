import { describe, expect, it } from "vitest";
import { captureDevices } from "./doctor.js";

const ARECORD = `**** List of CAPTURE Hardware Devices ****
card 1: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
`;
const PROC_PCM = `00-00: bcm2835 Headphones : bcm2835 Headphones : playback 8
01-00: USB Audio : USB Audio : playback 1 : capture 1
02-03: I2S Mic : snd_rpi_i2s_mic : capture 1
`;

describe("capture devices for doctor", () => {
  it("lists the cards arecord reports", () => {
    expect(captureDevices(ARECORD, PROC_PCM)).toEqual(["card 1: Device [USB PnP Sound Device], device 0: USB Audio [USB Audio]"]);
  });

  it("reads the kernel's list when arecord is not installed: capture devices only", () => {
    expect(captureDevices(null, PROC_PCM)).toEqual(["card 1, device 0: USB Audio (hw:1,0)", "card 2, device 3: I2S Mic (hw:2,3)"]);
  });

  it("finds nothing without a sound card, and says when it cannot tell", () => {
    expect(captureDevices(null, "00-00: bcm2835 Headphones : bcm2835 Headphones : playback 8\n")).toEqual([]);
    expect(captureDevices("**** List of CAPTURE Hardware Devices ****\n", PROC_PCM)).toEqual([]); // arecord answered: it knows best
    expect(captureDevices(null, null)).toBeNull();
  });
});
