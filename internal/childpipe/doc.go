// Package childpipe starts child processes with pipes of their own for
// their standard streams, for the exec: transport and the process
// services of talk/service.
package childpipe
