using System.Text;
using Hurd.Ipc.Abi;
using Hurd.Translators;

namespace Hurd.Translators.Tests;

// The SDK's sample shape: a whole read-only one-file translator's node in a few lines
// (the real hello translator, with TranslatorHost.Run and --contents, comes later).
sealed class HelloFile(byte[] text) : Node(1), IStatable, IReadable
{
    public Errno Stat(Protid who, ref Stat st) { st.Mode = FileMode.Regular | (FileMode)0x124; st.Size = text.Length; return Errno.OK; }
    public Errno Read(OpenFile f, long off, Span<byte> dst, out int n)
    {
        var src = off < text.Length ? text.AsSpan((int)off) : default;
        n = Math.Min(src.Length, dst.Length); src[..n].CopyTo(dst); return Errno.OK;
    }
}

public sealed class HelloSampleTests
{
    const int T = 10_000;

    [Fact(Timeout = T)]
    public async Task HelloNode_ReadsThroughTheSdk_WithOffsetsAndPermissions()
    {
        await Task.Yield();
        var hello = new HelloFile("Hello, world!\n"u8.ToArray());
        var user = Identity.Of(1000, 1000);
        Assert.Equal(Errno.OK, Calls.Open(user, hello, OpenFlags.Read, false, out var p));
        try
        {
            var buf = new byte[5];
            Assert.Equal(Errno.OK, Calls.IoRead(p!, OpenFile.FilePointer, buf, out int n));
            Assert.Equal("Hello", Encoding.UTF8.GetString(buf, 0, n));
            Assert.Equal(Errno.OK, Calls.IoRead(p!, OpenFile.FilePointer, buf, out n));
            Assert.Equal(", wor", Encoding.UTF8.GetString(buf, 0, n));
            Assert.Equal(Errno.OK, Calls.IoSeek(p!, 0, Whence.End, out long end));
            Assert.Equal(14, end);
            Assert.Equal(Errno.OK, Calls.IoStat(p!, out var st));
            Assert.Equal(14, st.Size);
            Assert.Equal(1ul, st.Ino);
            Assert.Equal(Errno.EBADF, Calls.IoWrite(p!, 0, "x"u8, out _));
            // defaults for what the node does not implement
            Assert.Equal(Errno.OK, Calls.IoSeek(p!, 3, Whence.Data, out long d));
            Assert.Equal(3, d);
            Assert.Equal(Errno.OK, Calls.IoSeek(p!, 3, Whence.Hole, out long h));
            Assert.Equal(14, h);
            Assert.Equal(Errno.OK, Calls.FileSync(p!, false));
            Assert.Equal(Errno.OK, Calls.FileStatfs(p!, out var sfs));
            Assert.Equal(255, sfs.Namelen);
            Assert.Equal(Errno.EPERM, Calls.FileChmod(p!, hello, (FileMode)0x1FF)); // root owns it
            Assert.Equal(Errno.EOPNOTSUPP, Calls.FileChmod(new Protid(Identity.Root, p!.File), hello, (FileMode)0x1FF));
            Assert.Equal(Errno.EOPNOTSUPP, Calls.Getxattr(p!, hello, "user.x"u8, default, out _));
            Assert.Equal(Errno.OK, Calls.Listxattr(p!, hello, default, out int xs));
            Assert.Equal(0, xs);
            Assert.Equal(Errno.EINVAL, Calls.FileGetTranslator(p!, hello, out _));
            Assert.Equal(Errno.EOPNOTSUPP, Calls.FileSetTranslator(new Protid(Identity.Root, p!.File), hello, "x\0"u8));
        }
        finally { p!.Release(); }
        Assert.Equal(Errno.EACCES, Calls.Open(user, hello, OpenFlags.Write, false, out _));
        Assert.Equal(Errno.OK, Calls.Open(Identity.Root, hello, OpenFlags.Write, false, out var w));
        try { Assert.Equal(Errno.EOPNOTSUPP, Calls.IoWrite(w!, 0, "x"u8, out _)); } finally { w!.Release(); }
        Assert.Equal(0, hello.OpenCount);
    }

    [Fact(Timeout = T)]
    public async Task NodeWithNothing_GetsTheDocumentedDefaults()
    {
        await Task.Yield();
        var bare = new BareNode();
        Assert.Equal(Errno.OK, Calls.Open(Identity.Root, bare, OpenFlags.Read, false, out var p));
        try
        {
            Assert.Equal(Errno.OK, Calls.IoStat(p!, out var st));
            Assert.Equal(FileMode.Regular | (FileMode)0x124, st.Mode);
            Assert.Equal(7ul, st.Ino);
            Assert.Equal(Errno.EOPNOTSUPP, Calls.IoRead(p!, 0, new byte[1], out _));
            Assert.Equal(Errno.ENOTDIR, Calls.DirMkdir(p!, "x"u8, (FileMode)0x1FF, out _));
            Assert.Equal(Errno.ENOTDIR, Calls.DirLookup(p!, bare, "x"u8, OpenFlags.Read, 0, out _));
            Assert.Equal(Errno.EINVAL, Calls.Readlink(p!, bare, out _));
        }
        finally { p!.Release(); }
    }

    sealed class BareNode() : Node(7);
}
