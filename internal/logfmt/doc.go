// Package logfmt is a log/slog handler that writes one line per record in
// qtalk's human format:
//
//	[2026-11-21 23:40:00.670 INFO session/3] call selector=chat:send duration=1.2ms
//
// # Format
//
// The bracket holds the local time to the millisecond, the level, and the
// component that logged the record as type/id. Type and id are ordinary
// top-level attributes named "type" and "id" (slog.String("type",
// "session"), slog.Any("id", 3)), usually set once with Logger.With; the
// handler moves them into the bracket, "type" alone when there is no id.
// The message follows, then every other attribute as key=value, keys of
// groups joined with dots. Values that are empty or contain spaces, '=',
// quotes or control characters are quoted as Go strings, and so are a
// type or an id that would not read back from the bracket and a message
// with control characters, so a record is always one line that splits
// back into its fields. A record with a zero time has no time.
//
// For machines, use slog.JSONHandler instead: the same attributes, type
// and id included, become JSON fields.
package logfmt
