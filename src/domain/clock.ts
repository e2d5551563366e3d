// One injectable clock, so expiry is testable without sleeping.
export type Clock = { now(): number };
export const systemClock: Clock = { now: () => Date.now() };
