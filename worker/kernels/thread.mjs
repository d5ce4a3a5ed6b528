// Entry file of every kernel thread. Worker threads do not inherit the parent's TypeScript
// loader, so register it here, then load the real thread module.
import { register } from 'tsx/esm/api';

register();

const thread = await import('./kernel-thread.ts');

export default thread.default;
