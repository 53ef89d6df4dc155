import type { RunnableProject } from './user-project.mjs'

export interface TestRegistry {
  url: string
  token: string
  log(): string
  publisherNpmrc: string
  userNpmrc: string
  stop(): Promise<void>
}
export function startRegistry(options?: { timeoutMs?: number }): Promise<TestRegistry>
export function copyWorkspace(): Promise<string>
export function runScript(
  dir: string,
  registry: TestRegistry,
  script: string,
  args?: string[],
): Promise<string>
export function registryProject(manager: 'npm' | 'pnpm' | 'yarn', registry: TestRegistry): RunnableProject
export function installFromRegistry(
  project: RunnableProject,
  names: string[],
  extra?: string[],
): Promise<string>
