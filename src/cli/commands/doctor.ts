// placeholder replaced by the doctor implementation
import type { Command } from 'commander';
export function registerDoctor(program: Command): void { void program; }
