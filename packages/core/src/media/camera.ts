/** LTX-2's `camera_motion` values (REFERENCE.md §1.3). The offline generator honours the same set. */
export const CAMERA_MOTIONS = [
  "dolly_in",
  "dolly_out",
  "dolly_left",
  "dolly_right",
  "jib_up",
  "jib_down",
  "static",
  "focus_shift",
] as const;
export type CameraMotion = (typeof CAMERA_MOTIONS)[number];

export const DEFAULT_CAMERA_MOTION: CameraMotion = "dolly_in";

export function isCameraMotion(value: unknown): value is CameraMotion {
  return typeof value === "string" && (CAMERA_MOTIONS as readonly string[]).includes(value);
}

// Each rule is a phrase family. When a prompt names several motions, the first one mentioned
// wins ("zoom in, then pan left" starts as a dolly in); at the same position the longer phrase
// wins ("zoom out" over "zoom"). Static phrases come first so "no zoom" is not a zoom.
const LEFT = String.raw`(?:to(?:wards?)?\s+the\s+)?left(?:wards?)?`;
const RIGHT = String.raw`(?:to(?:wards?)?\s+the\s+)?right(?:wards?)?`;
const LATERAL = String.raw`(?:pan|pans|panning|panned|truck|trucks|trucking|track|tracks|tracking|dolly|dollies|dollying|slide|slides|sliding|move|moves|moving|strafe|strafes|strafing|glide|glides|gliding|drift|drifts|drifting|sweep|sweeps|sweeping|camera)`;
const VERTICAL_UP = String.raw`(?:tilt|tilts|tilting|crane|cranes|craning|jib|jibs|boom|booms|booming|pedestal|pan|pans|panning|rise|rises|rising|move|moves|moving|lift|lifts|lifting|camera)`;
const VERTICAL_DOWN = String.raw`(?:tilt|tilts|tilting|crane|cranes|craning|jib|jibs|boom|booms|booming|pedestal|pan|pans|panning|move|moves|moving|lower|lowers|lowering|descend|descends|descending|sink|sinks|sinking|drop|drops|dropping|camera)`;

const RULES: ReadonlyArray<{ motion: CameraMotion; pattern: RegExp }> = [
  {
    motion: "static",
    pattern: new RegExp(
      String.raw`\b(?:static|stationary|motionless|immobile|tripod|locked(?:[- ]?(?:off|down))?(?:\s+(?:camera|shot|off))?|fixed\s+(?:camera|shot|frame)|(?:no|without(?:\s+any)?)\s+(?:camera\s+)?(?:movement|motion|moves?|moving|zoom(?:ing)?|pan(?:ning)?)|(?:does\s+not|doesn't|don't|do\s+not|never)\s+move|(?:hold|holds|holding|keep|keeps|keeping|stay|stays|staying|remain|remains|remaining|stand|stands|standing)\s+(?:completely\s+|perfectly\s+|very\s+)?still|still\s+(?:camera|shot|frame))\b`,
      "i",
    ),
  },
  {
    motion: "focus_shift",
    pattern: /\b(?:rack(?:s|ing)?[- ]focus|focus[- ](?:shift|shifts|shifting|pull|pulls|pulling|change|changes|racks?)|(?:shift|shifts|shifting|pull|pulls|pulling|change|changes|changing)\s+(?:the\s+)?focus|(?:comes?|coming|snaps?|snapping|drifts?)\s+into\s+focus|(?:de)?focus(?:es|ing)?\s+(?:from|on)\b)/i,
  },
  {
    motion: "dolly_out",
    pattern: /\b(?:zoom(?:s|ing|ed)?[- ]?(?:out|back|away)|pull(?:s|ing|ed)?[- ]?(?:out|back|away)|dolly(?:ing)?[- ]?(?:out|back)|dollies\s+(?:out|back)|push(?:es|ing)?\s+out|(?:move|moves|moving|draw|draws|drawing|back|backs|backing|track|tracks|tracking|step|steps|stepping)\s+(?:back|away|out)|recede[sd]?|receding|widen(?:s|ing)?|wide\s+reveal|reveal(?:s|ing)?\s+(?:the\s+)?(?:whole|wider|full|entire|surroundings|scene))\b/i,
  },
  {
    motion: "dolly_in",
    pattern: /\b(?:zoom(?:s|ing|ed)?(?![- ]?(?:out|back|away))(?:[- ]?in(?:to|wards?)?)?|push(?:es|ing|ed)?[- ]?in(?:to|wards?)?|dolly(?:ing)?[- ]?in(?:to|wards?)?|dollies\s+in|(?:move|moves|moving|creep|creeps|creeping|drift|drifts|drifting|glide|glides|gliding|track|tracks|tracking|push|pushes|pushing)\s+(?:in|closer|forward|towards?)|(?:get|gets|getting|come|comes|coming)\s+closer|close[- ]?in|approach(?:es|ing)?|ken\s+burns|dolly(?![- ]?(?:out|back|left|right|up|down)))\b/i,
  },
  {
    motion: "dolly_left",
    pattern: new RegExp(String.raw`\b(?:${LATERAL}\s+(?:slowly\s+|gently\s+|smoothly\s+)?${LEFT}|(?:from\s+(?:the\s+)?)?right\s+to\s+(?:the\s+)?left)\b`, "i"),
  },
  {
    motion: "dolly_right",
    pattern: new RegExp(String.raw`\b(?:${LATERAL}\s+(?:slowly\s+|gently\s+|smoothly\s+)?${RIGHT}|(?:from\s+(?:the\s+)?)?left\s+to\s+(?:the\s+)?right)\b`, "i"),
  },
  {
    motion: "jib_up",
    pattern: new RegExp(
      String.raw`\b(?:${VERTICAL_UP}\s+(?:slowly\s+|gently\s+|smoothly\s+)?(?:up|upwards?)|ascend(?:s|ing)?|bottom\s+to\s+(?:the\s+)?top|aerial\s+rise)\b`,
      "i",
    ),
  },
  {
    motion: "jib_down",
    pattern: new RegExp(
      String.raw`\b(?:${VERTICAL_DOWN}\s+(?:slowly\s+|gently\s+|smoothly\s+)?(?:down|downwards?)|descend(?:s|ing)?|top\s+to\s+(?:the\s+)?bottom)\b`,
      "i",
    ),
  },
];

/**
 * Reads the camera move a user asked for in plain English and maps it to LTX's camera_motion
 * enum. Understands dolly/zoom/push in, pull/zoom out, pan/truck/dolly left or right,
 * tilt/crane/jib up or down, rack focus and static/still/locked-off. A prompt with no
 * recognisable motion gets a gentle dolly in, which flatters almost any photo.
 */
export function cameraMotionFromPrompt(prompt: string): CameraMotion {
  let best: { motion: CameraMotion; index: number; length: number } | undefined;
  for (const { motion, pattern } of RULES) {
    const match = pattern.exec(prompt);
    if (!match) continue;
    const candidate = { motion, index: match.index, length: match[0].length };
    if (!best || candidate.index < best.index || (candidate.index === best.index && candidate.length > best.length)) {
      best = candidate;
    }
  }
  return best?.motion ?? DEFAULT_CAMERA_MOTION;
}
