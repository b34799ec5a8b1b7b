/**
 * EventBridge content filtering: pattern validation and matching.
 *
 * Sources (AWS EventBridge user guide): "Event patterns" (eb-event-patterns), "Content filtering"
 * (eb-event-patterns-content-based-filtering / eb-create-pattern-operators), "Arrays in event
 * patterns" (eb-event-patterns-arrays), and the behaviour of aws/event-ruler, the engine EventBridge
 * runs. A pattern is compiled once into a tree of closures; matching walks only the event fields the
 * pattern names, never the pattern JSON.
 *
 * Semantics worth knowing (each has a test naming its source):
 * - Pattern values are arrays of alternatives (OR); fields are AND; `$or` is OR of sub-patterns.
 * - An event array matches if any element matches; an array of objects matches a nested pattern if
 *   one element matches the whole nested pattern (event-ruler's "array consistency").
 * - `a.b` keys are equivalent to nesting on both sides (event-ruler flattens with "."): the pattern
 *   `{"state.status": [...]}` matches `{"state": {"status": ...}}` and vice versa.
 * - Only scalar leaves count as values: `exists: true` on an object or an empty array does not match.
 * - `null` is a value: `[null]` matches null (not a missing field); anything-but matches null.
 * - Numbers compare as numbers: pattern `300` matches event `300.0` (LocalStack verified this on AWS).
 */
import { cidrContains, parseCidr } from "./cidr";
import { InvalidEventError, InvalidEventPatternError } from "./errors";
import { parseWildcard, WILDCARD_COMPLEXITY_LIMIT, wildcardComplexity, wildcardMatcher } from "./wildcard";
import type { WildcardToken } from "./wildcard";

export interface CompiledPattern {
  /** The pattern as given (already validated). */
  readonly source: Record<string, unknown>;
  /** True when the event (any JSON value, usually an EventBridge envelope) matches. */
  matches(event: unknown): boolean;
}

type Scalar = string | number | boolean | null;
type ValueTest = (v: Scalar) => boolean;

/** A leaf: an array of alternatives for one field. */
interface LeafNode {
  kind: "leaf";
  existsTrue: boolean;
  existsFalse: boolean;
  tests: ValueTest[];
  /** Exact strings / numbers, tested with a Set lookup before the other tests. */
  strings: Set<string> | undefined;
  numbers: Set<number> | undefined;
  matchNull: boolean;
  matchTrue: boolean;
  matchFalse: boolean;
}

interface ObjectNode {
  kind: "object";
  fields: Array<{ key: string; node: ObjectNode | LeafNode }>;
  ors: ObjectNode[][];
}

const OPERATORS = new Set(["prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr", "wildcard"]);
const NUMERIC_LIMIT = 5e9;

// ---------------------------------------------------------------------------------------------
// Compilation and validation

function fail(path: string, reason: string): never {
  throw new InvalidEventPatternError(path, reason);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Field names split on "." so dotted pattern keys become nesting (event-ruler flattens with "."). */
function insertField(node: ObjectNode, segments: string[], child: ObjectNode | LeafNode, path: string): void {
  const [head, ...rest] = segments as [string, ...string[]];
  if (rest.length === 0) {
    const existing = node.fields.find((f) => f.key === head);
    if (!existing) {
      node.fields.push({ key: head, node: child });
      return;
    }
    if (existing.node.kind === "object" && child.kind === "object") {
      for (const f of child.fields) insertField(existing.node, [f.key], f.node, path);
      existing.node.ors.push(...child.ors);
      return;
    }
    // The same field named twice ("a.b" and {"a":{"b":…}}): both must hold, as separate fields.
    node.fields.push({ key: head, node: child });
    return;
  }
  let existing = node.fields.find((f) => f.key === head && f.node.kind === "object");
  if (!existing) {
    existing = { key: head, node: { kind: "object", fields: [], ors: [] } };
    node.fields.push(existing);
  }
  insertField(existing.node as ObjectNode, rest, child, path);
}

function compileObject(pattern: Record<string, unknown>, path: string, wildcards: Map<string, WildcardToken[][]>): ObjectNode {
  const keys = Object.keys(pattern);
  if (keys.length === 0) fail(path, "an object in an event pattern must not be empty");
  const node: ObjectNode = { kind: "object", fields: [], ors: [] };
  for (const key of keys) {
    const value = pattern[key];
    const fieldPath = join(path, key);
    if (key === "$or") {
      node.ors.push(compileOr(value, fieldPath, wildcards));
      continue;
    }
    let child: ObjectNode | LeafNode;
    if (Array.isArray(value)) child = compileLeaf(value, fieldPath, wildcards);
    else if (isPlainObject(value)) child = compileObject(value, fieldPath, wildcards);
    else fail(fieldPath, `match value must be an array or an object, got ${describe(value)}`);
    insertField(node, key.split("."), child, fieldPath);
  }
  return node;
}

function compileOr(value: unknown, path: string, wildcards: Map<string, WildcardToken[][]>): ObjectNode[] {
  if (!Array.isArray(value)) fail(path, "$or must be an array of event patterns");
  // event-ruler (JsonRuleCompiler) requires at least two alternatives.
  if (value.length < 2) fail(path, "$or must contain at least two event patterns");
  return value.map((alt, i) => {
    const altPath = `${path}[${i}]`;
    if (!isPlainObject(alt)) fail(altPath, "each $or alternative must be an event pattern object");
    const keys = Object.keys(alt);
    if (keys.length > 0 && keys.every((k) => OPERATORS.has(k))) {
      fail(altPath, `"${keys[0]}" is a matching operator and must be inside a field's array, not directly in $or`);
    }
    return compileObject(alt, altPath, wildcards);
  });
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

function compileLeaf(values: unknown[], path: string, wildcards: Map<string, WildcardToken[][]>): LeafNode {
  if (values.length === 0) fail(path, "an array of match values must not be empty");
  const leaf: LeafNode = {
    kind: "leaf", existsTrue: false, existsFalse: false, tests: [], strings: undefined, numbers: undefined,
    matchNull: false, matchTrue: false, matchFalse: false,
  };
  for (const v of values) {
    if (typeof v === "string") (leaf.strings ??= new Set()).add(v);
    else if (typeof v === "number") (leaf.numbers ??= new Set()).add(v);
    else if (v === null) leaf.matchNull = true;
    else if (v === true) leaf.matchTrue = true;
    else if (v === false) leaf.matchFalse = true;
    else if (isPlainObject(v)) compileOperator(v, path, leaf, wildcards);
    else fail(path, `match values must be strings, numbers, booleans, null or operator objects, got ${describe(v)}`);
  }
  return leaf;
}

function single(op: Record<string, unknown>, path: string): [string, unknown] {
  const keys = Object.keys(op);
  if (keys.length !== 1) fail(path, `an operator object must have exactly one key, got ${keys.length === 0 ? "none" : keys.map((k) => `"${k}"`).join(", ")}`);
  const key = keys[0]!;
  return [key, op[key]];
}

function str(v: unknown, path: string, what: string, allowEmpty = true): string {
  if (typeof v !== "string") fail(path, `${what} must be a string, got ${describe(v)}`);
  if (!allowEmpty && v.length === 0) fail(path, `${what} must not be an empty string`);
  return v;
}

function strList(v: unknown, path: string, what: string, allowEmpty: boolean): string[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) fail(path, `${what} must not be an empty list`);
  return list.map((x) => str(x, path, what, allowEmpty));
}

function compileOperator(op: Record<string, unknown>, path: string, leaf: LeafNode, wildcards: Map<string, WildcardToken[][]>): void {
  const [name, arg] = single(op, path);
  const at = `${path}.${name}`;
  switch (name) {
    case "exists":
      if (typeof arg !== "boolean") fail(at, `exists must be true or false, got ${describe(arg)}`);
      if (arg) leaf.existsTrue = true;
      else leaf.existsFalse = true;
      return;
    case "prefix":
    case "suffix": {
      const test = affix(name, arg, at);
      leaf.tests.push(test);
      return;
    }
    case "equals-ignore-case": {
      const want = str(arg, at, "equals-ignore-case").toLowerCase();
      leaf.tests.push((v) => typeof v === "string" && v.toLowerCase() === want);
      return;
    }
    case "wildcard": {
      const w = wildcard(arg, at, path, wildcards);
      leaf.tests.push((v) => typeof v === "string" && w(v));
      return;
    }
    case "cidr": {
      const text = str(arg, at, "cidr");
      const range = parseCidr(text);
      if (!range) fail(at, `"${text}" is not a valid IPv4 or IPv6 CIDR block`);
      leaf.tests.push((v) => typeof v === "string" && cidrContains(range, v));
      return;
    }
    case "numeric":
      leaf.tests.push(numeric(arg, at));
      return;
    case "anything-but":
      leaf.tests.push(anythingBut(arg, at, path, wildcards));
      return;
    default:
      fail(at, `unrecognized match type "${name}"`);
  }
}

function affix(name: "prefix" | "suffix", arg: unknown, at: string): ValueTest {
  if (isPlainObject(arg)) {
    const [inner, v] = single(arg, at);
    if (inner !== "equals-ignore-case") fail(`${at}.${inner}`, `unsupported ${name} option "${inner}" (only equals-ignore-case)`);
    const want = str(v, `${at}.${inner}`, `${name} equals-ignore-case`).toLowerCase();
    return name === "prefix"
      ? (x) => typeof x === "string" && x.toLowerCase().startsWith(want)
      : (x) => typeof x === "string" && x.toLowerCase().endsWith(want);
  }
  const want = str(arg, at, name);
  return name === "prefix" ? (x) => typeof x === "string" && x.startsWith(want) : (x) => typeof x === "string" && x.endsWith(want);
}

function wildcard(arg: unknown, at: string, fieldPath: string, wildcards: Map<string, WildcardToken[][]>): (s: string) => boolean {
  const text = str(arg, at, "wildcard");
  const parsed = parseWildcard(text);
  if ("error" in parsed) fail(at, parsed.error);
  const list = wildcards.get(fieldPath) ?? [];
  list.push(parsed.tokens);
  wildcards.set(fieldPath, list);
  return wildcardMatcher(parsed.tokens);
}

const LOWER_OPS = new Set([">", ">="]);
const UPPER_OPS = new Set(["<", "<="]);
const ALL_OPS = new Set(["<", "<=", "=", ">", ">="]);

function numeric(arg: unknown, at: string): ValueTest {
  if (!Array.isArray(arg)) fail(at, `numeric must be an array like [">", 0, "<=", 5], got ${describe(arg)}`);
  if (arg.length !== 2 && arg.length !== 4) fail(at, `numeric takes one comparison or a range of two, got ${arg.length} elements`);
  const conds: Array<[string, number]> = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof op !== "string" || !ALL_OPS.has(op)) fail(at, `unrecognized numeric operator ${JSON.stringify(op)}`);
    if (typeof n !== "number" || !Number.isFinite(n)) fail(at, `numeric operand of "${op}" must be a number, got ${describe(n)}`);
    if (Math.abs(n) > NUMERIC_LIMIT) fail(at, `numeric operand ${n} is outside the supported range -5.0e9..5.0e9`);
    conds.push([op, n]);
  }
  if (conds.length === 2) {
    const [lo, hi] = conds as [[string, number], [string, number]];
    if (!LOWER_OPS.has(lo[0])) fail(at, `a numeric range must start with ">" or ">=", got "${lo[0]}"`);
    if (!UPPER_OPS.has(hi[0])) fail(at, `a numeric range must end with "<" or "<=", got "${hi[0]}"`);
    if (lo[1] >= hi[1]) fail(at, `bottom of numeric range (${lo[1]}) must be less than its top (${hi[1]})`);
    const loIncl = lo[0] === ">=";
    const hiIncl = hi[0] === "<=";
    const a = lo[1];
    const b = hi[1];
    return (v) => typeof v === "number" && (loIncl ? v >= a : v > a) && (hiIncl ? v <= b : v < b);
  }
  const [op, n] = conds[0]!;
  switch (op) {
    case "<": return (v) => typeof v === "number" && v < n;
    case "<=": return (v) => typeof v === "number" && v <= n;
    case ">": return (v) => typeof v === "number" && v > n;
    case ">=": return (v) => typeof v === "number" && v >= n;
    default: return (v) => typeof v === "number" && v === n;
  }
}

function anythingBut(arg: unknown, at: string, fieldPath: string, wildcards: Map<string, WildcardToken[][]>): ValueTest {
  if (isPlainObject(arg)) {
    const [inner, v] = single(arg, at);
    const innerAt = `${at}.${inner}`;
    switch (inner) {
      case "prefix": {
        // AWS: anything-but prefix takes plain strings only (no equals-ignore-case), never empty.
        const list = strList(v, innerAt, "anything-but prefix", false);
        return (x) => typeof x !== "string" || !list.some((p) => x.startsWith(p));
      }
      case "suffix": {
        const list = strList(v, innerAt, "anything-but suffix", false);
        return (x) => typeof x !== "string" || !list.some((p) => x.endsWith(p));
      }
      case "equals-ignore-case": {
        const set = new Set(strList(v, innerAt, "anything-but equals-ignore-case", true).map((s) => s.toLowerCase()));
        return (x) => typeof x !== "string" || !set.has(x.toLowerCase());
      }
      case "wildcard": {
        const list = (Array.isArray(v) ? v : [v]);
        if (list.length === 0) fail(innerAt, "anything-but wildcard must not be an empty list");
        const ms = list.map((p) => wildcard(p, innerAt, fieldPath, wildcards));
        return (x) => typeof x !== "string" || !ms.some((m) => m(x));
      }
      default:
        fail(innerAt, `unsupported anything-but option "${inner}" (prefix, suffix, equals-ignore-case or wildcard)`);
    }
  }
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0) fail(at, "anything-but must not be an empty list");
  const allStrings = list.every((x) => typeof x === "string");
  const allNumbers = list.every((x) => typeof x === "number");
  if (!allStrings && !allNumbers) {
    fail(at, Array.isArray(arg)
      ? "anything-but list must contain only strings or only numbers"
      : `anything-but value must be a string, a number, a list or an object, got ${describe(arg)}`);
  }
  const set = new Set<Scalar>(list as Scalar[]);
  return (x) => !set.has(x);
}

function checkWildcardComplexity(wildcards: Map<string, WildcardToken[][]>): void {
  for (const [path, list] of wildcards) {
    if (wildcardComplexity(list) > WILDCARD_COMPLEXITY_LIMIT) {
      fail(path, "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matching

function leafHasValue(v: unknown): boolean {
  if (v === undefined) return false;
  if (Array.isArray(v)) {
    for (const el of v) if (leafHasValue(el)) return true;
    return false;
  }
  return typeof v !== "object" || v === null;
}

function scalarMatches(leaf: LeafNode, v: Scalar): boolean {
  switch (typeof v) {
    case "string":
      if (leaf.strings?.has(v)) return true;
      break;
    case "number":
      if (leaf.numbers?.has(v)) return true;
      break;
    case "boolean":
      if (v ? leaf.matchTrue : leaf.matchFalse) return true;
      break;
    default:
      if (leaf.matchNull) return true;
  }
  const tests = leaf.tests;
  for (let i = 0; i < tests.length; i++) if (tests[i]!(v)) return true;
  return false;
}

function leafAnyValue(leaf: LeafNode, v: unknown): boolean {
  if (Array.isArray(v)) {
    for (const el of v) if (leafAnyValue(leaf, el)) return true;
    return false;
  }
  if (typeof v === "object" && v !== null) return false;
  return scalarMatches(leaf, v as Scalar);
}

function matchLeaf(leaf: LeafNode, v: unknown): boolean {
  if (leaf.existsTrue || leaf.existsFalse) {
    const has = leafHasValue(v);
    if ((leaf.existsTrue && has) || (leaf.existsFalse && !has)) return true;
  }
  if (v === undefined) return false;
  return leafAnyValue(leaf, v);
}

/** Looks up `key` in `obj`, including event keys that are dotted ("a.b" stands for a → b). */
function lookup(obj: Record<string, unknown>, key: string): unknown {
  const direct = obj[key];
  if (direct !== undefined || Object.hasOwn(obj, key)) return direct;
  // Dotted event keys: build the virtual child {rest: value} from "key.rest" entries.
  let virtual: Record<string, unknown> | undefined;
  const prefix = key + ".";
  for (const k in obj) {
    if (k.length > prefix.length && k.startsWith(prefix)) {
      (virtual ??= {})[k.slice(prefix.length)] = obj[k];
    }
  }
  return virtual;
}

function matchObject(node: ObjectNode, v: unknown): boolean {
  if (Array.isArray(v)) {
    let sawObject = false;
    for (const el of v) {
      if (typeof el === "object" && el !== null) {
        sawObject = true;
        if (matchObject(node, el)) return true;
      }
    }
    return sawObject ? false : matchObject(node, undefined);
  }
  const obj = typeof v === "object" && v !== null ? (v as Record<string, unknown>) : undefined;
  const fields = node.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const child = obj === undefined ? undefined : lookup(obj, f.key);
    if (f.node.kind === "leaf" ? !matchLeaf(f.node, child) : !matchObject(f.node, child)) return false;
  }
  const ors = node.ors;
  for (let i = 0; i < ors.length; i++) {
    const alts = ors[i]!;
    let any = false;
    for (let j = 0; j < alts.length; j++) {
      if (matchObject(alts[j]!, v)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Validates and compiles an event pattern (an object, or its JSON text). Throws
 * InvalidEventPatternError naming the offending field when EventBridge would refuse it.
 */
export function compilePattern(pattern: unknown): CompiledPattern {
  let p = pattern;
  if (typeof p === "string") {
    try {
      p = JSON.parse(p);
    } catch (cause) {
      throw new InvalidEventPatternError("", "the event pattern is not valid JSON", { cause });
    }
  }
  if (!isPlainObject(p)) fail("", `an event pattern must be a JSON object, got ${describe(p)}`);
  const wildcards = new Map<string, WildcardToken[][]>();
  const root = compileObject(p, "", wildcards);
  checkWildcardComplexity(wildcards);
  const source = p;
  return {
    source,
    matches: (event: unknown) => matchObject(root, event),
  };
}

/** Fields AWS requires in the event given to TestEventPattern. */
export const TEST_EVENT_REQUIRED_FIELDS = ["id", "account", "source", "time", "region", "detail-type"] as const;

/**
 * Checks an event the way TestEventPattern does. The API reference lists id, account, source, time,
 * region, resources and detail-type as mandatory; LocalStack's cases verified on AWS (October 2025)
 * show events without `resources` are accepted, so `resources` is checked only for its type.
 */
export function validateTestEvent(event: unknown): Record<string, unknown> {
  let e = event;
  if (typeof e === "string") {
    try {
      e = JSON.parse(e);
    } catch (cause) {
      throw new InvalidEventError("The event is not valid JSON.", { cause });
    }
  }
  if (!isPlainObject(e)) throw new InvalidEventError("The event must be a JSON object.");
  const missing = TEST_EVENT_REQUIRED_FIELDS.filter((f) => e[f] === undefined);
  if (missing.length) throw new InvalidEventError(`Missing required field(s): ${missing.join(", ")}.`);
  if (e.resources !== undefined && !Array.isArray(e.resources)) throw new InvalidEventError("resources must be an array.");
  return e;
}

/** TestEventPattern: validates the pattern (InvalidEventPatternError) and the event envelope (InvalidEventError), then matches. */
export function testEventPattern(pattern: unknown, event: unknown): boolean {
  const compiled = compilePattern(pattern);
  return compiled.matches(validateTestEvent(event));
}
