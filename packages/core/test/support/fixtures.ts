/**
 * Where core's binary test fixtures are (a photo, LTX clips), for tests in other packages that
 * run core's use-cases against their emulators: `fixtureUrl("unit/ingest/fixtures/photo-300x400.jpg")`.
 * Relative to packages/core/test.
 */
export const fixtureUrl = (path: string): URL => new URL(`../${path}`, import.meta.url);
