/** A sentence per failure code (packages/events/src/reasons.ts); unknown codes show the service's message. */
const hints: Record<string, string> = {
  InvalidUpload: "The upload was not accepted.",
  EmptyFile: "The uploaded file was empty.",
  InvalidImage: "The photo could not be read as an image. Try another photo.",
  UnsupportedFormat: "This image format is not supported. Use a JPEG, PNG or WebP photo.",
  ImageTooLarge: "The photo has too many pixels. Use a smaller photo.",
  GenerationRejected: "The video generator refused this photo or prompt. Try another photo or prompt.",
  InsufficientCredits: "The video generator is out of credits. Try again later.",
  GenerationFailed: "The video generator failed. Try again.",
  GenerationExpired: "The video generator took too long. Try again.",
  RenderStartFailed: "The final render could not start. Try again.",
  RenderError: "The final render failed. Try again.",
  RenderTimeout: "The final render took too long. Try again.",
  FfmpegFailed: "Preparing streaming and clips failed; the MP4 may still be available.",
  RetriesExhausted: "A step kept failing and gave up. Try again later.",
  Internal: "Something went wrong on our side. Try again later.",
  BudgetExceeded: "This video would cost more than the budget allows; nothing more was paid.",
};

export function describeFailure(f: { code: string; message: string }): string {
  const hint = hints[f.code];
  return hint ? `${hint} (${f.code}: ${f.message})` : `${f.code}: ${f.message}`;
}
