// test-whoami: one read-only file that tells who the translator is: its pid, its process's real ids, and the ids of
// the auth handle it was started with (auth_getids), one "key value" line each. Its stat reports the reader's first
// uid and gid as the owner, so a client sees which ids the protid it reads through carries.
using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Interop;
using Hurd.Translators;
using Hurd.Translators.Hosting;
using Hurd.Translators.Serving;

return TranslatorHost.Run(args, new WhoAmI());

sealed class WhoAmI() : Node(1), IStatable, IReadable
{
    static byte[] Text()
    {
        string auth = "none";
        if (TranslatorHost.Auth is { } h)
            auth = AuthPorts.GetIds(h, out var ids) is var e && e == Errno.OK ? Format(ids!) : e.ToString();
        return Encoding.UTF8.GetBytes($"pid {Environment.ProcessId}\nprocess uid {Self.Uid} gid {Self.Gid}\nauth {auth}\n");
    }

    static string Format(Identity i) =>
        $"euids=[{string.Join(',', i.Uids.ToArray())}] auids=[{string.Join(',', i.AvailableUids.ToArray())}] " +
        $"egids=[{string.Join(',', i.Gids.ToArray())}] agids=[{string.Join(',', i.AvailableGids.ToArray())}]";

    public Errno Stat(Protid who, ref Stat st)
    {
        (st.Mode, st.Size) = (FileMode.Regular | (FileMode)0x124, Text().Length);
        (st.Uid, st.Gid) = (who.User.Uid, who.User.Gid);
        return Errno.OK;
    }

    public Errno Read(OpenFile f, long off, Span<byte> dst, out int n)
    {
        var text = Text();
        var src = off < text.Length ? text.AsSpan((int)off) : default;
        n = Math.Min(src.Length, dst.Length);
        src[..n].CopyTo(dst);
        return Errno.OK;
    }
}
