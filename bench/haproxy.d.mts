export function haproxyBinary(): string | undefined
export function loopbackConfig(frontPort: number, replicaPorts: number[]): string
