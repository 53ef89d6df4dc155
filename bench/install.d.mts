export interface TranscriptionRun {
  texts: string[]
  refs: string[]
  ms: number
  source: string
  features: Record<string, string>
  stderr: string
}
export interface InstallRun extends TranscriptionRun {
  manager: 'npm' | 'pnpm'
  installSeconds: number
}
export function userEnv(): NodeJS.ProcessEnv
/** The packages the whisper.cpp backend needs (directory names under packages/). */
export const WHISPERCPP_PACKAGES: string[]
/** Every published package of the workspace (directory names under packages/). */
export const ALL_PACKAGES: string[]
export function packTarballs(packages?: string[]): Promise<{ dir: string; tarballs: Record<string, string> }>
export function installAndTranscribe(
  manager: 'npm' | 'pnpm',
  tarballs: Record<string, string>,
): Promise<InstallRun>
export function transcribeInWorkspace(): Promise<TranscriptionRun>
export const ROOT_PACKAGE: { packageManager: string; [key: string]: unknown }
