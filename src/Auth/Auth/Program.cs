using Hurd.Auth;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Transport;

// auth [--name NAME]: serves the auth protocol; publishes its "new client" port as NAME (default "auth")
// in the runtime directory, prints "ready" and serves until SIGTERM/SIGINT.
string name = "auth";
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--name" && i + 1 < args.Length) name = args[++i];
    else { Console.Error.WriteLine("usage: auth [--name NAME]"); return 2; }
}
using var daemon = new AuthDaemon();
var e = Bootstrap.Publish(name, daemon.BootstrapPort, out var pub);
if (e != Errno.OK) { Console.Error.WriteLine($"auth: cannot publish {name}: {e}"); return 1; }
using var done = new ManualResetEventSlim();
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; done.Set(); });
Console.CancelKeyPress += (_, c) => { c.Cancel = true; done.Set(); };
Console.WriteLine($"ready {pub!.Path}");
Console.Out.Flush();
done.Wait();
pub.Dispose();
return 0;
