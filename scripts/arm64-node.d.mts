export const ARM64_NODE: { package: string; version: string; integrity: string }
export function arm64NodeDir(env?: NodeJS.ProcessEnv): string
export function arm64NodePath(env?: NodeJS.ProcessEnv): string
export function fetchArm64Node(options?: { env?: NodeJS.ProcessEnv; log?: (line: string) => void }): string
