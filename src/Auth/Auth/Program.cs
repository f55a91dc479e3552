using System.Runtime.InteropServices;
using Hurd.Auth;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Transport;
using Hurd.Translators.Hosting;
using Hurd.Translators.Serving;

// auth: the auth server (the Hurd's /hurd/auth), and its read-only filesystem view (AuthFs).
//   auth [--name NAME]               the server: publishes its "new client" port as NAME (default "auth") in the
//                                    runtime directory, prints "ready PATH", serves until SIGTERM/SIGINT
//   auth [--name NAME] --node=PATH   the same, and serves its filesystem over IPC as the translator of PATH inside a
//                                    booted tree (`hurd boot` installs it on MNT/servers/auth): publishes the control
//                                    port (owner only) and writes a mount record for PATH; fsys_goaway or SIGTERM end it
//   auth --mount=DIR | [SOURCE] MOUNTPOINT [-o OPTS] | with HURD_BOOTSTRAP
//                                    a translator (`hurd settrans -a DIR auth`): an auth server of its own (published
//                                    as NAME when no other server holds the name) whose filesystem is mounted on DIR
string name = "auth";
string? node = null;
bool translator = Environment.GetEnvironmentVariable("HURD_BOOTSTRAP") is not null;
var rest = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    string a = args[i];
    if (a == "--name" && i + 1 < args.Length) name = args[++i];
    else if (a.StartsWith("--name=", StringComparison.Ordinal)) name = a["--name=".Length..];
    else if (a.StartsWith("--node=", StringComparison.Ordinal)) node = MountRecord.Normalize(a["--node=".Length..]);
    else if (a is "-h" or "--help")
    {
        Console.Out.Write("Usage: auth [--name NAME] [--node=PATH | --mount=DIR | [SOURCE] MOUNTPOINT [-o OPTS] [-f]]\n" +
            "The auth server: identities (auth handles), auth_makeauth, the user/server rendezvous.\n" +
            "Its filesystem shows the reader's own ids (self) and the live handles (handles/N).\n");
        return 0;
    }
    else { rest.Add(a); translator = true; }
}
if (node is not null && translator)
{
    Console.Error.WriteLine("auth: --node and a mount point exclude each other");
    return 2;
}

using var daemon = new AuthDaemon();
var fs = new AuthFs(daemon);
var e = Bootstrap.Publish(name, daemon.BootstrapPort, out var pub);
if (translator)
{
    // A translator of its own: serve the protocol too, under NAME if nobody else does.
    if (e != Errno.OK) Console.Error.WriteLine($"auth: {name} not published ({e.Message()}): serving this translator's own handles only");
    using (pub) return TranslatorHost.Run([.. rest], fs.Root);
}
if (e != Errno.OK) { Console.Error.WriteLine($"auth: cannot publish {name}: {e.Message()}"); return 1; }
using var done = new ManualResetEventSlim();
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; done.Set(); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; done.Set(); });
using (pub)
{
    if (node is null)
    {
        Console.WriteLine($"ready {pub!.Path}");
        Console.Out.Flush();
        done.Wait();
        return 0;
    }
    // Its own root handle (in-process) is the filesystem's auth handle: io_reauthenticate on auth's files meets
    // this very server, with no connection to itself.
    using var served = new ServedFilesystem(fs.Root, "auth") { Source = "auth", Auth = daemon.Root.Port.MakeSend() };
    served.GoAway = _ => { done.Set(); return Errno.OK; };
    string control = MountRecord.ControlNameOf(node);
    e = Bootstrap.Publish(control, served.Control, out var controlPub, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    if (e != Errno.OK) { Console.Error.WriteLine($"auth: {node}: cannot publish the control port: {e.Message()}"); return 1; }
    using (controlPub)
    {
        new MountRecord { MountPoint = node, Pid = Environment.ProcessId, Argv = ["auth"], Control = control, Uid = Hurd.Ipc.Interop.Self.Uid }.Save();
        try
        {
            Console.WriteLine($"ready {pub!.Path} {node}");
            Console.Out.Flush();
            done.Wait();
        }
        finally { MountRecord.Remove(node, Environment.ProcessId); }
    }
    return 0;
}
