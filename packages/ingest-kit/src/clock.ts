/** Milliseconds since the epoch. The services take one, so tests can move time instead of waiting. */
export type Clock = () => number

export const systemClock: Clock = () => Date.now()

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
