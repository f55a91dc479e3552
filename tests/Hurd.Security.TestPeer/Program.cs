using Hurd.Security.Testing;

// Modes:
//   fs ROOT...      run the operations read from stdin on every root; one result line per operation (see FsScript)
//   fs-ipc ROOT GIVER MOUNT   the same operations with libc on ROOT and over IPC on the translator the giver hands out (IpcSide)
//   ipc ...         unprivileged IPC client checks (see IpcChecks)
//   reauth AUTH GIVER   reauthenticating a port it was given (see ReauthChecks)
try
{
    return args.Length > 0 && args[0] == "fs" ? FsScript.Run(args[1..])
        : args.Length > 0 && args[0] == "ipc" ? IpcChecks.Run(args[1..])
        : args.Length == 3 && args[0] == "reauth" ? ReauthChecks.Run(args[1..])
        : args.Length == 4 && args[0] == "fs-ipc" ? FsScript.RunIpc(args[1], args[2], args[3])
        : Usage();
}
catch (Exception ex)
{
    Console.WriteLine($"fail {ex.GetType().Name} {ex.Message}");
    return 1;
}

static int Usage()
{
    Console.Error.WriteLine("usage: Hurd.Security.TestPeer fs ROOT... | ipc MODE ARGS...");
    return 2;
}
