/**
 * The moto server under the name the Athena connector's tests import: the one runner is test/support/moto.ts (a
 * pyenv Python with moto, a free loopback port, retried when the port is taken, stopped with its parent).
 */
export { startMoto } from "./moto";
export type { MotoServer as RunningMoto } from "./moto";
