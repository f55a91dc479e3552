// hello: one read-only file holding "Hello, world!\n", or the text of --contents=TEXT,
// which `hurd fsysopts FILE --contents=TEXT` changes at run time (the Hurd's trans/hello.c).
using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Translators;
using Hurd.Translators.Hosting;

return TranslatorHost.Run(args, new HelloFile());

sealed class HelloFile() : Node(1), IStatable, IReadable, IFilesystemOptions
{
    volatile byte[] text = "Hello, world!\n"u8.ToArray();
    readonly TimeSpec born = TimeSpec.Now();

    public Errno Stat(Protid who, ref Stat st)
    {
        (st.Mode, st.Size) = (FileMode.Regular | (FileMode)0x124 /* 0444 */, text.Length);
        st.Atime = st.Mtime = st.Ctime = born;
        return Errno.OK;
    }

    public Errno Read(OpenFile f, long off, Span<byte> dst, out int n)
    {
        var src = off < text.Length ? text.AsSpan((int)off) : default;
        n = Math.Min(src.Length, dst.Length);
        src[..n].CopyTo(dst);
        return Errno.OK;
    }

    public byte[] GetOptions() => [.. "--contents="u8, .. text, 0];

    public Errno SetOptions(ReadOnlySpan<byte> argz)
    {
        var opts = Encoding.UTF8.GetString(argz).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        if (opts.Any(o => !o.StartsWith("--contents="))) return Errno.EINVAL;
        foreach (var o in opts) text = Encoding.UTF8.GetBytes(o["--contents=".Length..]);
        return Errno.OK;
    }
}
