/** Schemas of the webhook routes: the wire schemas, which the SDK shares (`shared/wire/webhooks.ts`). */
export {
  EndpointIdParams,
  DeliveryIdParams,
  CreateEndpointBody,
  UpdateEndpointBody,
  RotateSecretBody,
  DeliveryListQuery,
  EndpointSchema,
  EndpointWithSecretSchema,
  EndpointListSchema,
  RotatedSecretSchema,
  DeliverySchema,
  DeliveryWithPayloadSchema,
  DeliveryListSchema,
} from '../../shared/wire/webhooks.ts';
