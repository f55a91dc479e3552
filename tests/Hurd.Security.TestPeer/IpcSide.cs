using System.Text;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Ports;
using Hurd.Ipc.Transport;
using FileMode = Hurd.Ipc.Abi.FileMode;

namespace Hurd.Security.Testing;

/// <summary>
/// The operations of <see cref="FsScript"/> over IPC instead of libc: what glibc on the Hurd sends for each call, on a
/// translator's root port this process got from <c>fsys_getroot</c> with its own ids and groups (the control port
/// comes from a giver; a non-root caller's ids are clamped to its attested ones anyway). Paths are walked by the server
/// (one dir_lookup with the whole path); the caller applies its umask (022) as glibc does. symlink and mkfifo (the
/// Hurd's short-circuited translators) and tree answer SKIP.
/// </summary>
internal sealed class IpcSide
{
    const uint Umask = 0x12;
    readonly SendRight root;

    IpcSide(SendRight root) { this.root = root; }

    /// <summary>The root port of the translator whose control port the giver at <paramref name="giverSocket"/> hands out.</summary>
    public static IpcSide Connect(string giverSocket)
    {
        var e = Bootstrap.Connect(giverSocket, out var giver, 5000);
        if (e != Errno.OK) throw new IOException("giver: " + e);
        SendRight? control;
        var call = giver!.BeginCall(1);
        try
        {
            e = call.Invoke();
            if (e != Errno.OK) throw new IOException("giver call: " + e);
            control = SendRight.FromName(call.Reply.ReadOptionalRight(out _));
        }
        finally { call.Dispose(); }
        if (control is null) throw new IOException("no control port");
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        uint uid = Hurd.Ipc.Interop.Self.Uid;
        uint[] gids = [Hurd.Ipc.Interop.Self.Gid, .. OwnGroups()];
        e = new FsysClient(control) { TimeoutMs = 10_000 }.fsys_getroot(PortName.Null, [uid], gids, OpenFlags.None, out _, retry, out _, out var file);
        if (e != Errno.OK) throw new IOException("fsys_getroot: " + e);
        return new IpcSide(SendRight.FromName(file.Name) ?? throw new IOException("no root port"));
    }

    /// <summary>This process's supplementary groups (the "Groups:" line of /proc/self/status).</summary>
    static IEnumerable<uint> OwnGroups()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("Groups:", StringComparison.Ordinal)) ?? "Groups:";
        return line[7..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(uint.Parse);
    }

    static FsClient Fs(SendRight r) => new(r) { TimeoutMs = 10_000 };
    static IoClient Io(SendRight r) => new(r) { TimeoutMs = 10_000 };

    /// <summary>dir_lookup of <paramref name="path"/> from the root; a retry (another translator) is EIO here.</summary>
    Errno Lookup(string path, OpenFlags flags, uint mode, out SendRight? port)
    {
        port = null;
        Span<byte> retry = stackalloc byte[HurdLimits.RetryNameMax];
        var e = Fs(root).dir_lookup(Encoding.UTF8.GetBytes(path), flags, (FileMode)mode, out var rt, retry, out int rn, out var res);
        if (e != Errno.OK) return e;
        port = SendRight.FromName(res.Name);
        if (port is null || rt != RetryType.Normal || rn != 0) { port?.Dispose(); port = null; return Errno.EIO; }
        return Errno.OK;
    }

    /// <summary>The parent directory of <paramref name="path"/> (looked up) and the last name.</summary>
    Errno Parent(string path, out SendRight? dir, out byte[] name)
    {
        int slash = path.LastIndexOf('/');
        name = Encoding.UTF8.GetBytes(slash < 0 ? path : path[(slash + 1)..]);
        return Lookup(slash < 0 ? "" : path[..slash], OpenFlags.None, 0, out dir);
    }

    static string Res(Errno e) => e == Errno.OK ? "OK" : e.ToString();

    public string Do(string[] a)
    {
        uint Oct(int i) => Convert.ToUInt32(a[i], 8);
        Errno e;
        SendRight? p;
        switch (a[0])
        {
            case "umask": return "OK";
            case "open":
                e = Lookup(a[1], OpenFlagsLinux.FromLinux(FsScript.Flags(a[2])), a.Length > 3 ? Oct(3) & ~Umask : 0, out p);
                p?.Dispose();
                return Res(e);
            case "fchmod":
            case "fchown":
            case "ftruncate":
            case "futime-now":
            case "futime-set":
            {
                e = Lookup(a[1], OpenFlagsLinux.FromLinux(FsScript.Flags(a[2])), 0, out p);
                if (e != Errno.OK) return "open " + Res(e);
                using (p)
                {
                    var fs = Fs(p!);
                    TimeSpec now = new(0, TimeSpec.UtimeNow), at = new(1_000_000_000, 5), mt = new(1_000_000_000, 7);
                    return Res(a[0] switch
                    {
                        "fchmod" => fs.file_chmod((FileMode)Oct(3)),
                        "fchown" => fs.file_chown((uint)int.Parse(a[3]), (uint)int.Parse(a[4])),
                        "ftruncate" => fs.file_set_size(long.Parse(a[3])),
                        "futime-now" => fs.file_utimens(in now, in now),
                        _ => fs.file_utimens(in at, in mt),
                    });
                }
            }
            case "write":
            {
                e = Lookup(a[1], OpenFlags.Write, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p) return Res(Io(p!).io_write("w"u8, -1, out _));
            }
            case "stat":
            {
                e = Lookup(a[1], OpenFlags.NoLink, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p)
                {
                    e = Io(p!).io_stat(out var st);
                    return e != Errno.OK ? Res(e) : $"OK {Convert.ToString((uint)st.Mode & 0xFFFF, 8)} {st.Uid} {st.Gid}";
                }
            }
            case "chmod":
                e = Lookup(a[1], OpenFlags.None, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p) return Res(Fs(p!).file_chmod((FileMode)Oct(2)));
            case "chown":
                e = Lookup(a[1], OpenFlags.NoLink, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p) return Res(Fs(p!).file_chown((uint)int.Parse(a[2]), (uint)int.Parse(a[3])));
            case "mkdir":
            case "rmdir":
            case "unlink":
            {
                e = Parent(a[1], out p, out var name);
                if (e != Errno.OK) return Res(e);
                using (p)
                    return Res(a[0] == "mkdir" ? Fs(p!).dir_mkdir(name, (FileMode)(Oct(2) & ~Umask))
                        : a[0] == "rmdir" ? Fs(p!).dir_rmdir(name) : Fs(p!).dir_unlink(name));
            }
            case "rename":
            {
                e = Parent(a[1], out var from, out var oldName);
                if (e != Errno.OK) return Res(e);
                using (from)
                {
                    e = Parent(a[2], out var to, out var newName);
                    if (e != Errno.OK) return Res(e);
                    using (to) return Res(Fs(from!).dir_rename(oldName, to!.Name, newName, false));
                }
            }
            case "link":
            {
                e = Lookup(a[1], OpenFlags.NoLink, 0, out var target);
                if (e != Errno.OK) return Res(e);
                using (target)
                {
                    e = Parent(a[2], out p, out var name);
                    if (e != Errno.OK) return Res(e);
                    using (p) return Res(Fs(p!).dir_link(target!.Name, name, true));
                }
            }
            case "truncate":
                e = Lookup(a[1], OpenFlags.Write, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p) return Res(Fs(p!).file_set_size(long.Parse(a[2])));
            case "access":
            {
                var want = OpenFlags.None;
                foreach (char c in a[2]) want |= c switch { 'r' => OpenFlags.Read, 'w' => OpenFlags.Write, 'x' => OpenFlags.Exec, _ => 0 };
                e = Lookup(a[1], OpenFlags.None, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p)
                {
                    e = Fs(p!).file_check_access(out var allowed);
                    return e != Errno.OK ? Res(e) : (allowed & want) == want ? "OK" : "EACCES";
                }
            }
            case "readdir":
            {
                e = Lookup(a[1], OpenFlags.Read | OpenFlags.Directory, 0, out p);
                if (e != Errno.OK) return Res(e);
                using (p)
                {
                    var buf = new byte[65536];
                    int n = 0, entry = 0;
                    while (true)
                    {
                        e = Fs(p!).dir_readdir(buf, out int count, entry, -1, buf.Length, out int amount);
                        if (e != Errno.OK) return Res(e);
                        if (amount == 0) break;
                        var r = new DirentReader(buf.AsSpan(0, count));
                        while (r.TryRead(out _)) n++;
                        entry += amount;
                    }
                    return "OK " + n;
                }
            }
            case "utime-null":
            case "utime-now": return Utime(a[1], new TimeSpec(0, TimeSpec.UtimeNow), new TimeSpec(0, TimeSpec.UtimeNow));
            case "utime-set": return Utime(a[1], new TimeSpec(1_000_000_000, 5), new TimeSpec(1_000_000_000, 7));
            case "utime-omit": return Utime(a[1], new TimeSpec(0, TimeSpec.UtimeOmit), new TimeSpec(0, TimeSpec.UtimeOmit));
            case "utime-mixed": return Utime(a[1], new TimeSpec(0, TimeSpec.UtimeNow), new TimeSpec(1_000_000_000, 7));
            default: return "SKIP";
        }
    }

    string Utime(string path, TimeSpec at, TimeSpec mt)
    {
        var e = Lookup(path, OpenFlags.None, 0, out var p);
        if (e != Errno.OK) return Res(e);
        using (p) return Res(Fs(p!).file_utimens(in at, in mt));
    }
}
