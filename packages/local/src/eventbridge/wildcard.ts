/**
 * `wildcard` filter (AWS content filtering doc, "Wildcard matching"): `*` matches any run of
 * characters (including none), `\*` and `\\` are literal, any other escape is an error, and two
 * consecutive `*` are refused. AWS also refuses wildcard patterns that are "too complex"; see
 * {@link wildcardComplexity}.
 */

const STAR = -1;
export type WildcardToken = string | typeof STAR;
type Token = WildcardToken;

/** Parses a wildcard pattern into tokens (characters and STAR); returns an error reason when AWS would refuse it. */
export function parseWildcard(pattern: string): { tokens: Token[] } | { error: string } {
  const tokens: Token[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "\\") {
      const next = chars[i + 1];
      if (next !== "*" && next !== "\\") return { error: `wildcard "${pattern}" has an invalid escape at position ${i}` };
      tokens.push(next);
      i++;
    } else if (c === "*") {
      if (tokens[tokens.length - 1] === STAR) return { error: `wildcard "${pattern}" has consecutive wildcard characters` };
      tokens.push(STAR);
    } else {
      tokens.push(c);
    }
  }
  return { tokens };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** Compiles parsed tokens to a matcher on whole strings. */
export function wildcardMatcher(tokens: Token[]): (s: string) => boolean {
  if (!tokens.includes(STAR)) {
    const literal = tokens.join("");
    return (s) => s === literal;
  }
  const src = tokens.map((t) => (t === STAR ? "[\\s\\S]*" : escapeRegex(t))).join("");
  const re = new RegExp(`^${src}$`, "u");
  return (s) => re.test(s);
}

/**
 * AWS refuses wildcard rules that are too complex ("Rule is too complex - try using fewer wildcard
 * characters or fewer repeating character sequences after a wildcard character"). event-ruler, the
 * engine EventBridge runs, measures the largest number of wildcard-pattern prefixes that one input
 * string can be in the middle of at the same time, over all wildcard patterns on the same field.
 * We compute that by simulating the patterns' NFA over the characters they mention (plus one
 * "any other" character) and counting simultaneously active states that are past a wildcard.
 * Calibrated on the cases LocalStack verified against AWS: `*:*:*:*:*:event-bus/*` is refused,
 * `/Users/*\/dir/dir/dir/dir/dir/doc.txt` and `arn:aws:events:us-east-1:*:event-bus/*` are accepted.
 */
export const WILDCARD_COMPLEXITY_LIMIT = 10;

export function wildcardComplexity(patterns: Token[][]): number {
  // Global state ids: per pattern, positions 0..len.
  interface P { tokens: Token[]; base: number }
  const ps: P[] = [];
  let total = 0;
  const alphabet = new Set<string>();
  for (const tokens of patterns) {
    if (!tokens.includes(STAR)) continue;
    ps.push({ tokens, base: total });
    total += tokens.length + 1;
    for (const t of tokens) if (t !== STAR) alphabet.add(t);
  }
  if (ps.length === 0) return 0;
  const other = "\u0000";
  const letters = [...alphabet, other];
  // Per state: pattern index, position.
  const owner: number[] = [];
  const pos: number[] = [];
  const pastStar: boolean[] = [];
  ps.forEach((p, pi) => {
    let seenStar = false;
    for (let i = 0; i <= p.tokens.length; i++) {
      owner.push(pi);
      pos.push(i);
      pastStar.push(seenStar);
      if (p.tokens[i] === STAR) seenStar = true;
    }
  });
  const closure = (set: Set<number>): Set<number> => {
    const stack = [...set];
    while (stack.length) {
      const s = stack.pop()!;
      const p = ps[owner[s]!]!;
      if (p.tokens[pos[s]!] === STAR && !set.has(s + 1)) {
        set.add(s + 1);
        stack.push(s + 1);
      }
    }
    return set;
  };
  const start = closure(new Set(ps.map((p) => p.base)));
  const seen = new Set<string>();
  const queue: Set<number>[] = [start];
  let max = 0;
  let explored = 0;
  while (queue.length && explored < 5000) {
    const cur = queue.pop()!;
    explored++;
    for (const ch of letters) {
      const next = new Set<number>();
      for (const s of cur) {
        const p = ps[owner[s]!]!;
        const t = p.tokens[pos[s]!];
        if (t === STAR) next.add(s);
        else if (t !== undefined && t === ch) next.add(s + 1);
      }
      if (next.size === 0) continue;
      closure(next);
      let weight = 0;
      for (const s of next) if (pastStar[s]) weight++;
      if (weight > max) max = weight;
      const key = [...next].sort((a, b) => a - b).join(",");
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(next);
      }
    }
  }
  return max;
}
