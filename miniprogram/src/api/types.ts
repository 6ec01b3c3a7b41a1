// Types read off the generated contract (src/api/schema.d.ts, from docs/api/openapi.yaml by `npm run gen`):
// a route that changes shape in the contract fails the type check of every screen that uses it.
import type { components, paths } from './schema'

export type Schemas = components['schemas']
export type Method = 'get' | 'post' | 'put' | 'delete'

/** The routes that have this method. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends undefined | never ? never : P
}[keyof paths]

type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>

type JSONOf<R> = R extends { content: { 'application/json': infer J } } ? J : void

/** The body of the operation's success answer (200, 201 or 202; void for 204). */
export type Ok<P extends keyof paths, M extends Method> =
  Op<P, M> extends { responses: infer R }
    ? 200 extends keyof R
      ? JSONOf<R[200]>
      : 201 extends keyof R
        ? JSONOf<R[201]>
        : 202 extends keyof R
          ? JSONOf<R[202]>
          : void
    : never

/** The JSON request body of the operation (never when it has none). */
export type Body<P extends keyof paths, M extends Method> =
  Op<P, M> extends { requestBody?: { content: { 'application/json': infer B } } } ? B : never

type Params<P extends keyof paths, M extends Method> = Op<P, M> extends { parameters: infer X } ? X : never
export type Query<P extends keyof paths, M extends Method> = Params<P, M> extends { query?: infer Q } ? Q : never
export type PathParams<P extends keyof paths, M extends Method> = Params<P, M> extends { path?: infer Q } ? Q : never

export type Card = Schemas['Card']
export type Txn = Schemas['Txn']
export type Me = Schemas['Me']
