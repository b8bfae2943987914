// The simulator's credentials are defined once, in @pulse/contracts, for the services and the kit too.
export { SIMULATOR_CREDENTIALS as SIM_CREDENTIALS } from '@pulse/contracts'
