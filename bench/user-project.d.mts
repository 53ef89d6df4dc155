export interface UserProject {
  dir: string
  manager: 'npm' | 'pnpm'
  files: Record<string, string>
  env: NodeJS.ProcessEnv
}
export interface InstallStep {
  seconds: number
  bytes: number
}
export interface BinRun {
  code: number | string
  stdout: string
  stderr: string
}
export interface RunningServer {
  port: number
  stderr(): string
  stop(): Promise<number | string | null>
}
export function createUserProject(manager: 'npm' | 'pnpm', tarballs: Record<string, string>): UserProject
export function addPackages(project: UserProject, packages: Record<string, string>): Promise<InstallStep>
export function binCommand(project: UserProject, bin: string, args: string[]): [string, string[]]
export function runBin(project: UserProject, bin: string, args: string[], timeoutMs?: number): Promise<BinRun>
export function freePort(): Promise<number>
export function startServer(project: UserProject, args?: string[], timeoutMs?: number): Promise<RunningServer>
export function runnableSamples(markdown: string): string[]
