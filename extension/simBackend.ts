// Connects ./run to the emulator (debugger/sim.ts). Until that module lands, no backend is
// registered and runScenario reports that the emulator is not part of this build.
export function registerSimBackend(): void { /* wired to debugger/sim.ts when it exists */ }
