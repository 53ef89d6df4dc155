import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

// dist/*.js and src/*.ts both sit one level below the package root.
const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url))

/** The package's python/ directory (worker and requirements). */
export const PYTHON_DIR = join(here, '..', 'python')
export const WORKER_SCRIPT = join(PYTHON_DIR, 'worker.py')
export const REQUIREMENTS_FILE = join(PYTHON_DIR, 'requirements.txt')
