// The school's settings are one document with a version: every page that edits part of it (学校设置, the
// help and about texts) sends the whole of what it read back with its edits; a save by someone else in
// between is 409 SCHOOL_CHANGED and the page reloads.
import { api, ok, type Schemas } from '../../api/client'

export type Settings = Schemas['SchoolSettings']

export const loadSettings = () => ok(api.GET('/v1/admin/school'))

export const saveSettings = (s: Settings) => ok(api.PUT('/v1/admin/school', { body: s }))
