using System.Runtime.InteropServices;
using System.Text;
using Hurd.Ipc.Abi;

namespace Hurd.Security.Testing;

/// <summary>
/// The <c>fs</c> mode: reads operations from stdin, one a line, runs each on every root given (the same relative path
/// under each) and prints one line per operation: its index, then each root's result, tab-separated. A result is
/// <c>OK</c> (plus what the operation reports, e.g. a stat's mode, uid and gid) or the errno's name. Every operation is
/// one or a few libc calls, so the result is exactly what the kernel answered this process (its real uid, gid and
/// groups, which setpriv chose).
/// </summary>
/// <remarks>
/// Operations (paths are relative, modes octal, -1 = unchanged id):
/// <c>open PATH FLAGS [MODE]</c> (FLAGS: RDONLY, WRONLY, RDWR, CREAT, EXCL, TRUNC, APPEND joined by '|'; opened and
/// closed), <c>write PATH</c> (open O_WRONLY, write one byte), <c>stat PATH</c> (lstat: "OK mode uid gid"),
/// <c>chmod PATH MODE</c>, <c>chown PATH UID GID</c>, <c>mkdir PATH MODE</c>, <c>rmdir PATH</c>, <c>unlink PATH</c>,
/// <c>rename OLD NEW</c>, <c>link OLD NEW</c>, <c>symlink TARGET PATH</c>, <c>mkfifo PATH MODE</c>,
/// <c>truncate PATH SIZE</c>, <c>readdir PATH</c> ("OK n" entries), <c>access PATH r|w|x|rw...</c>,
/// <c>utime-null PATH</c> (utimensat with NULL times), <c>utime-now PATH</c> (both UTIME_NOW),
/// <c>utime-set PATH</c> (explicit times), <c>utime-omit PATH</c> (both UTIME_OMIT),
/// <c>utime-mixed PATH</c> (atime UTIME_NOW, mtime explicit), <c>fchmod PATH FLAGS MODE</c>,
/// <c>fchown PATH FLAGS UID GID</c>, <c>ftruncate PATH FLAGS SIZE</c>, <c>futime-now PATH FLAGS</c>,
/// <c>futime-set PATH FLAGS</c> (open with FLAGS, then the call on the descriptor), <c>tree [PATH]</c> (every entry under PATH, default the root:
/// "path type+mode uid gid size nlink;..." sorted; size only for regular files), <c>umask MODE</c>.
/// </remarks>
internal static unsafe partial class FsScript
{
    public static int Run(string[] roots) => Run(roots.Select(r => (Func<string[], string>)(a => Do(r, a))).ToArray());

    /// <summary>The <c>fs-ipc ROOT GIVER_SOCKET MOUNT</c> mode: libc on ROOT against IPC on the translator the giver
    /// names (<see cref="IpcSide"/>); the operations IPC does not carry here (symlink, mkfifo) go through libc on the
    /// translator's MOUNT.</summary>
    public static int RunIpc(string root, string giverSocket, string mount)
    {
        var ipc = IpcSide.Connect(giverSocket);
        return Run([a => Do(root, a), a => ipc.Do(a) is var r && r == "SKIP" ? Do(mount, a) : r]);
    }

    static int Run(Func<string[], string>[] sides)
    {
        Libc.umask(0x12); // 022, whatever the parent had
        int i = 0;
        string? line;
        var sb = new StringBuilder();
        while ((line = Console.ReadLine()) is not null)
        {
            line = line.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var args = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            sb.Clear();
            sb.Append(i++);
            foreach (var side in sides)
            {
                sb.Append('\t');
                string r;
                try { r = side(args); }
                catch (Exception ex) { r = "EXC " + ex.GetType().Name + " " + ex.Message.Replace('\t', ' ').Replace('\n', ' '); }
                sb.Append(r);
            }
            Console.WriteLine(sb.ToString());
        }
        Console.Out.Flush();
        return 0;
    }

    static string Err() => ((Errno)Marshal.GetLastPInvokeError()).ToString();
    static string Res(int rc) => rc == 0 ? "OK" : Err();

    static string Do(string root, string[] a)
    {
        string P(int i) => Path.Combine(root, a[i]);
        uint Oct(int i) => Convert.ToUInt32(a[i], 8);
        switch (a[0])
        {
            case "umask": Libc.umask(Oct(1)); return "OK";
            case "open":
            {
                int fd = Libc.open(P(1), Flags(a[2]) | 0x80000 /* O_CLOEXEC */, a.Length > 3 ? Oct(3) : 0);
                if (fd < 0) return Err();
                Libc.close(fd);
                return "OK";
            }
            case "fchmod":
            case "fchown":
            case "ftruncate":
            case "futime-now":
            case "futime-set":
            {
                int fd = Libc.open(P(1), Flags(a[2]) | 0x80000, 0);
                if (fd < 0) return "open " + Err();
                TimeSpec* t = stackalloc TimeSpec[2];
                t[0] = new TimeSpec(1_000_000_000, 5); t[1] = new TimeSpec(1_000_000_000, 7);
                int rc = a[0] switch
                {
                    "fchmod" => Libc.fchmod(fd, Oct(3)),
                    "fchown" => Libc.fchown(fd, (uint)int.Parse(a[3]), (uint)int.Parse(a[4])),
                    "ftruncate" => Libc.ftruncate(fd, long.Parse(a[3])),
                    "futime-now" => Libc.futimens(fd, null),
                    _ => Libc.futimens(fd, t),
                };
                string r = Res(rc);
                Libc.close(fd);
                return r;
            }
            case "write":
            {
                int fd = Libc.open(P(1), 1 | 0x80000, 0);
                if (fd < 0) return Err();
                byte b = (byte)'w';
                nint n = Libc.write(fd, &b, 1);
                string r = n == 1 ? "OK" : Err();
                Libc.close(fd);
                return r;
            }
            case "stat":
            {
                var e = Stat(P(1), out var st);
                return e != 0 ? ((Errno)e).ToString() : $"OK {Convert.ToString(st.Mode, 8)} {st.Uid} {st.Gid}";
            }
            case "chmod": return Res(Libc.chmod(P(1), Oct(2)));
            case "chown": return Res(Libc.lchown(P(1), (uint)int.Parse(a[2]), (uint)int.Parse(a[3])));
            case "mkdir": return Res(Libc.mkdir(P(1), Oct(2)));
            case "rmdir": return Res(Libc.rmdir(P(1)));
            case "unlink": return Res(Libc.unlink(P(1)));
            case "rename": return Res(Libc.rename(P(1), P(2)));
            case "link": return Res(Libc.link(P(1), P(2)));
            case "symlink": return Res(Libc.symlink(a[1], P(2)));
            case "mkfifo": return Res(Libc.mknod(P(1), 0x1000 | Oct(2), 0));
            case "truncate": return Res(Libc.truncate(P(1), long.Parse(a[2])));
            case "access":
            {
                int m = 0;
                foreach (char c in a[2]) m |= c switch { 'r' => 4, 'w' => 2, 'x' => 1, _ => 0 };
                return Res(Libc.access(P(1), m));
            }
            case "readdir":
            {
                var d = Libc.opendir(P(1));
                if (d == 0) return Err();
                int n = 0;
                while (Libc.readdir(d) != 0) n++;
                Libc.closedir(d);
                return "OK " + n;
            }
            case "utime-null": return Res(Libc.utimensat(-100, P(1), null, 0));
            case "utime-now": return Utime(P(1), new TimeSpec(0, TimeSpec.UtimeNow), new TimeSpec(0, TimeSpec.UtimeNow));
            case "utime-set": return Utime(P(1), new TimeSpec(1_000_000_000, 5), new TimeSpec(1_000_000_000, 7));
            case "utime-omit": return Utime(P(1), new TimeSpec(0, TimeSpec.UtimeOmit), new TimeSpec(0, TimeSpec.UtimeOmit));
            case "utime-mixed": return Utime(P(1), new TimeSpec(0, TimeSpec.UtimeNow), new TimeSpec(1_000_000_000, 7));
            case "tree": return Tree(a.Length > 1 ? P(1) : root);
            default: throw new ArgumentException("unknown operation " + a[0]);
        }
    }

    /// <summary>Linux open flags from "RDONLY|CREAT|...".</summary>
    internal static int Flags(string names)
    {
        int flags = 0;
        foreach (var f in names.Split('|'))
            flags |= f switch
            {
                "RDONLY" => 0, "WRONLY" => 1, "RDWR" => 2, "CREAT" => 0x40, "EXCL" => 0x80, "TRUNC" => 0x200,
                "APPEND" => 0x400, "DIRECTORY" => 0x10000, "NOFOLLOW" => 0x20000,
                _ => throw new ArgumentException("flag " + f),
            };
        return flags;
    }

    static string Utime(string path, TimeSpec a, TimeSpec m)
    {
        TimeSpec* t = stackalloc TimeSpec[2];
        t[0] = a; t[1] = m;
        return Res(Libc.utimensat(-100, path, t, 0));
    }

    internal struct StatX { public uint Mode, Uid, Gid, Nlink; public long Size; }

    static int Stat(string path, out StatX st)
    {
        st = default;
        byte* buf = stackalloc byte[256];
        if (Libc.statx(-100, path, 0x100 /* AT_SYMLINK_NOFOLLOW */, 0x7ff, buf) != 0) return Marshal.GetLastPInvokeError();
        st.Nlink = *(uint*)(buf + 16);
        st.Uid = *(uint*)(buf + 20);
        st.Gid = *(uint*)(buf + 24);
        st.Mode = *(ushort*)(buf + 28);
        st.Size = *(long*)(buf + 40);
        return 0;
    }

    static string Tree(string root)
    {
        var lines = new List<string>();
        void Walk(string dir, string rel)
        {
            foreach (var full in Directory.EnumerateFileSystemEntries(dir))
            {
                string name = Path.GetFileName(full), r = rel.Length == 0 ? name : rel + "/" + name;
                if (Stat(full, out var st) != 0) { lines.Add(r + " ?"); continue; }
                bool isDir = (st.Mode & 0xF000) == 0x4000, isReg = (st.Mode & 0xF000) == 0x8000;
                lines.Add($"{r} {Convert.ToString(st.Mode, 8)} {st.Uid} {st.Gid} {(isReg ? st.Size : 0)} {(isDir ? 0 : st.Nlink)}");
                if (isDir) Walk(full, r);
            }
        }
        Walk(root, "");
        lines.Sort(StringComparer.Ordinal);
        return string.Join(';', lines);
    }

    static partial class Libc
    {
        const string L = "libc";
        [LibraryImport(L)] public static partial uint umask(uint mask);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int open(string path, int flags, uint mode);
        [LibraryImport(L, SetLastError = true)] public static partial int close(int fd);
        [LibraryImport(L, SetLastError = true)] public static partial nint write(int fd, byte* buf, nint count);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int chmod(string path, uint mode);
        [LibraryImport(L, SetLastError = true)] public static partial int fchmod(int fd, uint mode);
        [LibraryImport(L, SetLastError = true)] public static partial int fchown(int fd, uint uid, uint gid);
        [LibraryImport(L, SetLastError = true)] public static partial int ftruncate(int fd, long size);
        [LibraryImport(L, SetLastError = true)] public static partial int futimens(int fd, TimeSpec* times);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int lchown(string path, uint uid, uint gid);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int mkdir(string path, uint mode);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int rmdir(string path);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int unlink(string path);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int rename(string a, string b);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int link(string a, string b);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int symlink(string target, string path);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int mknod(string path, uint mode, ulong dev);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int truncate(string path, long size);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int access(string path, int mode);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial nint opendir(string path);
        [LibraryImport(L, SetLastError = true)] public static partial nint readdir(nint dir);
        [LibraryImport(L, SetLastError = true)] public static partial int closedir(nint dir);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int utimensat(int dirfd, string path, TimeSpec* times, int flags);
        [LibraryImport(L, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] public static partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);
    }
}
