using System.Runtime.CompilerServices;

// Tests and the hostile test peer reach into the transport on purpose (raw handles, raw ring memory).
[assembly: InternalsVisibleTo("Hurd.Ipc.Tests")]
[assembly: InternalsVisibleTo("Hurd.Ipc.TestPeer")]
[assembly: InternalsVisibleTo("Hurd.Benchmarks")]
