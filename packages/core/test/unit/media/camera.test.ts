import { describe, expect, it } from "vitest";
import { CAMERA_MOTIONS, cameraMotionFromPrompt, isCameraMotion } from "../../../src/media/camera";

describe("cameraMotionFromPrompt", () => {
  it.each([
    ["Slow zoom in on her face", "dolly_in"],
    ["push in towards the mountain", "dolly_in"],
    ["Dolly in slowly", "dolly_in"],
    ["the camera moves closer to the cake", "dolly_in"],
    ["zoom out to reveal the city", "dolly_out"],
    ["Camera pulls back from the table", "dolly_out"],
    ["slow dolly out", "dolly_out"],
    ["zooming out gently", "dolly_out"],
    ["pan left across the beach", "dolly_left"],
    ["the camera trucks to the left", "dolly_left"],
    ["Dolly left", "dolly_left"],
    ["pan from right to left", "dolly_left"],
    ["Pan right over the skyline", "dolly_right"],
    ["camera slowly tracks to the right", "dolly_right"],
    ["a smooth pan from left to right", "dolly_right"],
    ["tilt up to the sky", "jib_up"],
    ["Crane up over the crowd", "jib_up"],
    ["jib up", "jib_up"],
    ["tilt down to the shoes", "jib_down"],
    ["the camera cranes down", "jib_down"],
    ["static shot", "static"],
    ["Locked-off camera, leaves moving in the wind", "static"],
    ["The camera stays still while the candle flickers", "static"],
    ["no camera movement", "static"],
    ["no zoom please, just the waves", "static"],
    ["rack focus from the glass to the face", "focus_shift"],
    ["focus shift to the background", "focus_shift"],
  ] as const)("%s → %s", (prompt, expected) => {
    expect(cameraMotionFromPrompt(prompt)).toBe(expected);
  });

  it("defaults to a gentle dolly in when no motion is named", () => {
    expect(cameraMotionFromPrompt("a cosy living room at golden hour")).toBe("dolly_in");
    expect(cameraMotionFromPrompt("")).toBe("dolly_in");
  });

  it("takes the first motion a prompt names", () => {
    expect(cameraMotionFromPrompt("pan left, then zoom in on the door")).toBe("dolly_left");
    expect(cameraMotionFromPrompt("zoom in on the door, then pan left")).toBe("dolly_in");
  });

  it("does not read motion into unrelated words", () => {
    expect(cameraMotionFromPrompt("a still life of pears on the left")).toBe("dolly_in");
    expect(cameraMotionFromPrompt("the sun rises over the bay")).toBe("dolly_in");
  });

  it("always answers one of LTX's camera_motion values", () => {
    for (const prompt of ["", "zoom", "PAN RIGHT", "¿qué?", "tilt up".repeat(1000)]) {
      expect(isCameraMotion(cameraMotionFromPrompt(prompt))).toBe(true);
    }
    expect(CAMERA_MOTIONS).toHaveLength(8);
  });
});
