using Hurd.Auth;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Transport;

// Modes (each prints result lines, then "done", then waits for stdin to close):
//   ids            own handle's ids; tries to obtain uid 0 by makeauth and by claiming it in the bootstrap request
//   server NAME    gets the rendezvous port from the giver published as NAME, answers auth_server_authenticate with a new port
//   user-own NAME  makes a rendezvous port, publishes a giver for it as NAME, prints ready, calls auth_user_authenticate
//   hold NAME      makes a rendezvous port and publishes a giver for it as NAME (the tests kill this process)
//   user-gated NAME AUTH
//                  with the auth server published as AUTH: as user-own, but calls auth_user_authenticate only after
//                  reading a line from stdin (the test decides the order)
//   wait-user AUTH / wait-server AUTH
//                  with the auth server published as AUTH: makes a rendezvous port, prints "waiting" and calls
//                  that half of the rendezvous, which waits (the tests kill this process)
static string Ids(SendRight h)
{
    var e = AuthBootstrapProtocol.GetIds(h, out var eu, out var au, out var eg, out var ag);
    return e != Errno.OK ? e.ToString() : new AuthIds(eu, au, eg, ag).ToString();
}

static Errno GetRendezvous(string name, out SendRight? r)
{
    r = null;
    var e = Bootstrap.Lookup(name, out var giver);
    if (e != Errno.OK) return e;
    using (giver)
    {
        var call = giver!.BeginCall(Giver.Id);
        try
        {
            e = call.Invoke();
            if (e != Errno.OK) return e;
            r = SendRight.FromName(call.Reply.ReadOptionalRight(out _));
            return r is null ? Errno.EBADMSG : Errno.OK;
        }
        finally { call.Dispose(); }
    }
}

try
{
    var ee = args[0].StartsWith("wait-", StringComparison.Ordinal) ? AuthBootstrapProtocol.Connect(args[1], out var handle)
        : args[0] == "user-gated" ? AuthBootstrapProtocol.Connect(args[2], out handle) : AuthBootstrapProtocol.Connect(out handle);
    if (ee != Errno.OK) { Console.WriteLine($"fail connect {ee}"); return 1; }
    var auth = new AuthClient(handle!);
    switch (args[0])
    {
        case "ids":
        {
            Console.WriteLine($"ids {Ids(handle!)}");
            Console.WriteLine($"makeauth-root {auth.auth_makeauth([], [0u], [0u], [0u], [0u], out _)}");
            Console.WriteLine($"makeauth-root-self-other {auth.auth_makeauth([handle!.Name], [0u], [], [], [], out _)}");
            Console.WriteLine($"makeauth-gid0 {auth.auth_makeauth([], [], [], [0u], [], out _)}");
            var e2 = auth.auth_makeauth([], [Hurd.Ipc.Interop.Self.Uid], [], [], [], out var sub);
            Console.WriteLine($"makeauth-subset {e2} {(e2 == Errno.OK ? Ids(SendRight.FromName(sub)!) : "")}");
            // Claiming ids: a bootstrap request carrying uid 0 and a made-up pid in its body is ignored.
            Bootstrap.Lookup("auth", out var ap);
            var call = ap!.BeginCall(AuthBootstrapProtocol.GetHandleId);
            call.Request.WriteInt32(1); call.Request.WriteUInt32(0); call.Request.WriteUInt32(0);
            var ce = call.Invoke();
            string claimed = ce.ToString();
            if (ce == Errno.OK) claimed = Ids(SendRight.FromName(call.Reply.ReadOptionalRight(out _))!);
            call.Dispose();
            Console.WriteLine($"claim {claimed}");
            break;
        }
        case "server":
        {
            var e = GetRendezvous(args[1], out var r);
            if (e != Errno.OK) { Console.WriteLine($"fail rendezvous {e}"); return 1; }
            var mine = new ReceivePort();
            uint[] a = new uint[64], b = new uint[64], c = new uint[64], d = new uint[64];
            e = auth.auth_server_authenticate(r!.Name, PortRight.MakeSend(mine.Name), a, out int na, b, out int nb, c, out int nc, d, out int nd);
            Console.WriteLine($"server {e} {(e == Errno.OK ? new AuthIds(a[..na], b[..nb], c[..nc], d[..nd]).ToString() : "")}");
            break;
        }
        case "user-own":
        {
            // The Hurd's order: the user makes the rendezvous port, hands it to the server (here through a
            // published giver), then calls auth_user_authenticate.
            var r = new ReceivePort();
            var g = Giver.Create(r);
            var e = Bootstrap.Publish(args[1], g, out var pub);
            if (e != Errno.OK) { Console.WriteLine($"fail publish {e}"); return 1; }
            Console.WriteLine("ready");
            Console.Out.Flush();
            e = auth.auth_user_authenticate(r.Name, out var np);
            Console.WriteLine($"user {e} {(e == Errno.OK ? SendRight.FromName(np)?.Peer?.Pid.ToString() : "")}");
            pub!.Dispose();
            break;
        }
        case "user-gated":
        {
            var r = new ReceivePort();
            var g = Giver.Create(r);
            var e = Bootstrap.Publish(args[1], g, out var pub);
            if (e != Errno.OK) { Console.WriteLine($"fail publish {e}"); return 1; }
            Console.WriteLine("ready");
            Console.Out.Flush();
            if (Console.In.ReadLine() is null) return 1;
            e = auth.auth_user_authenticate(r.Name, out var np);
            Console.WriteLine($"user {e} {(e == Errno.OK ? SendRight.FromName(np)?.Peer?.Pid.ToString() : "")}");
            pub!.Dispose();
            break;
        }
        case "hold":
        {
            var r = new ReceivePort();
            var g = Giver.Create(r);
            var e = Bootstrap.Publish(args[1], g, out var pub);
            Console.WriteLine($"hold {e}");
            break;
        }
        case "wait-user":
        case "wait-server":
        {
            var r = new ReceivePort();
            var mine = new ReceivePort();
            Console.WriteLine("waiting");
            Console.Out.Flush();
            var e = args[0] == "wait-user"
                ? auth.auth_user_authenticate(r.Name, out _)
                : auth.auth_server_authenticate(r.MakeSend().Name, PortRight.MakeSend(mine.Name), new uint[64], out _, new uint[64], out _, new uint[64], out _, new uint[64], out _);
            Console.WriteLine($"wait {e}");
            break;
        }
        default: Console.WriteLine("fail mode"); return 2;
    }
    Console.WriteLine("done");
    Console.Out.Flush();
    Console.In.ReadToEnd();
    return 0;
}
catch (Exception ex) { Console.WriteLine($"fail {ex.GetType().Name} {ex.Message}"); return 1; }

/// <summary>A port whose one routine (id 1) returns a send right to a given rendezvous port.</summary>
public static class Giver
{
    /// <summary>The routine id.</summary>
    public const uint Id = 1;
    /// <summary>A giver for <paramref name="rendezvous"/>.</summary>
    public static ReceivePort Create(ReceivePort rendezvous) => ReceivePort.Create(rendezvous, static (ReceivePort r, ref RpcRequest req) =>
    {
        if (req.Id != Id) return Errno.MIG_BAD_ID;
        req.ReplyBody.WriteInt32(0);
        req.ReplyBody.WriteOptionalRight(r.Name, Disposition.MakeSend);
        return Errno.OK;
    });

    /// <summary>Looks up the giver published as <paramref name="name"/> and asks it for its rendezvous port.</summary>
    public static Errno Fetch(string name, out SendRight? rendezvous)
    {
        rendezvous = null;
        var e = Bootstrap.Lookup(name, out var giver);
        if (e != Errno.OK) return e;
        using (giver)
        {
            using var call = giver!.BeginCall(Id);
            e = call.Invoke();
            if (e == Errno.OK) rendezvous = SendRight.FromName(call.Reply.ReadOptionalRight(out _));
        }
        return e == Errno.OK && rendezvous is null ? Errno.EPROTO : e;
    }
}
