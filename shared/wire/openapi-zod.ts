/**
 * Gives zod's schemas `.openapi(...)`, so the wire schemas can name their OpenAPI components
 * where they are declared. Every wire module imports this first; extending twice is a no-op.
 */
import { extendZodWithOpenApi } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);
