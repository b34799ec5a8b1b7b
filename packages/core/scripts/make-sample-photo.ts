// Makes assets/sample/photo.jpg (run: pnpm exec tsx packages/core/scripts/make-sample-photo.ts), the sample photo `reelbridge run` uses when given no image.
// It is drawn here from an SVG scene (a mountain lake at sunset) so it belongs to the project
// and to no one else: CC0, like the rest of assets/sample (see assets/sample/LICENSE.md).
import { writeFileSync } from "node:fs";
import sharp from "sharp";

const W = 2400;
const H = 1800;
const ridge = (seed: number, base: number, amp: number, step: number) => {
  let d = `M0 ${H} L0 ${base}`;
  for (let x = 0, i = 0; x <= W; x += step, i++) {
    const y = base - amp * (0.5 + 0.5 * Math.sin(i * 0.9 + seed) * Math.cos(i * 0.37 + seed * 2)) - (i % 3) * amp * 0.08;
    d += ` L${x} ${y.toFixed(1)}`;
  }
  return `${d} L${W} ${H} Z`;
};
const stars = Array.from({ length: 90 }, (_, i) => {
  const x = (i * 7919) % W;
  const y = (i * 104729) % 520;
  return `<circle cx="${x}" cy="${y}" r="${1 + (i % 3) * 0.6}" fill="#fff" opacity="${0.25 + (i % 5) * 0.1}"/>`;
}).join("");
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">
  <defs>
    <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#1b2a5a"/><stop offset="0.45" stop-color="#b8577a"/><stop offset="0.62" stop-color="#f6a65a"/><stop offset="0.7" stop-color="#ffd68a"/>
    </linearGradient>
    <radialGradient id="sun" cx="0.5" cy="0.5" r="0.5"><stop offset="0" stop-color="#fff6d8"/><stop offset="0.5" stop-color="#ffd27a"/><stop offset="1" stop-color="#ffb347" stop-opacity="0"/></radialGradient>
    <linearGradient id="lake" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f3b27a"/><stop offset="0.3" stop-color="#7d5a86"/><stop offset="1" stop-color="#1d2447"/></linearGradient>
  </defs>
  <rect width="${W}" height="${H}" fill="url(#sky)"/>
  ${stars}
  <circle cx="${W * 0.62}" cy="${H * 0.58}" r="260" fill="url(#sun)"/>
  <path d="${ridge(1, H * 0.62, 380, 60)}" fill="#5b4a7a" opacity="0.85"/>
  <path d="${ridge(4, H * 0.66, 260, 45)}" fill="#3c3562"/>
  <path d="${ridge(9, H * 0.7, 150, 30)}" fill="#262446"/>
  <rect y="${H * 0.7}" width="${W}" height="${H * 0.3}" fill="url(#lake)"/>
  ${Array.from({ length: 26 }, (_, i) => `<rect x="${W * 0.62 - 220 + (i % 5) * 30}" y="${H * 0.72 + i * 16}" width="${440 - i * 14}" height="5" rx="2" fill="#ffe3a8" opacity="${0.7 - i * 0.025}"/>`).join("")}
  <path d="M0 ${H} L0 ${H * 0.9} Q ${W * 0.2} ${H * 0.84} ${W * 0.42} ${H * 0.93} L ${W * 0.5} ${H} Z" fill="#141528"/>
  ${Array.from({ length: 14 }, (_, i) => { const x = 60 + i * 70; const h = 140 + (i % 4) * 50; const b = H * 0.93 - (i % 3) * 10; return `<path d="M${x} ${b} L${x + 28} ${b - h} L${x + 56} ${b} Z" fill="#0e0f1f"/>`; }).join("")}
</svg>`;

const jpeg = await sharp(Buffer.from(svg)).jpeg({ quality: 88, mozjpeg: true }).toBuffer();
writeFileSync(new URL("../../../assets/sample/photo.jpg", import.meta.url), jpeg);
console.log(`assets/sample/photo.jpg: ${W}x${H}, ${jpeg.length} bytes`);
