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
/** What binCommand, runBin and startServer need of a project (a registry project too). */
export interface RunnableProject {
  dir: string
  manager: 'npm' | 'pnpm' | 'yarn'
  env: NodeJS.ProcessEnv
}
export function binCommand(project: RunnableProject, bin: string, args: string[]): [string, string[]]
export function runBin(
  project: RunnableProject,
  bin: string,
  args: string[],
  timeoutMs?: number,
): Promise<BinRun>
export function freePort(): Promise<number>
export function startServer(
  project: RunnableProject,
  args?: string[],
  timeoutMs?: number,
): Promise<RunningServer>
export function runnableSamples(markdown: string): string[]
