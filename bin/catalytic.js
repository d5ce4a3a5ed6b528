#!/usr/bin/env node
// The `catalytic` executable: registers the TypeScript loader, then hands over to the launcher.
import { register } from 'tsx/esm/api';

register();
await import('../launcher/main.ts');
