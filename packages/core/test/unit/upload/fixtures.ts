import type { JobParams } from "@reelbridge/events";

export const JOB_ID = "01JD7X8Q2RZ4V6N3K5M9P1T0AB";
export const MUSIC_IDS = ["sunrise", "pulse"] as const;

/** A request as the browser sends it, in several scripts at once. */
export const goodRequest = () => ({
  title: "Café 東京 — مرحبا 🎉",
  subtitle: "Ünïcödé survives: 日本語, עברית, 🚀",
  cameraPrompt: "slow dolly in toward the lantern",
  music: "sunrise",
  aspect: "9:16",
  durationSeconds: 6,
  callbackUrl: "https://hooks.example.com/reelbridge",
  contentType: "image/jpeg",
});

export const goodParams = (): JobParams => {
  const { contentType: _ct, ...rest } = goodRequest();
  return { ...rest, aspect: "9:16", jobId: JOB_ID, owner: "user-123", createdAt: "2026-11-20T10:00:00.000Z" };
};
