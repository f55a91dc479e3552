namespace Hurd.Interfaces.Tests;

/// <summary>The dir_readdir entry packing (DirentFormat): golden bytes and hostile input.</summary>
public class DirentTests
{
    [Fact(Timeout = 30_000)]
    public Task Writer_PacksTheHurdDirent64Layout() => T.Run(() =>
    {
        var buf = new byte[64];
        var w = new DirentWriter(buf);
        Assert.True(w.TryAdd(0x0102030405060708, DirentType.Regular, "abc"u8));
        Assert.Equal(16, w.Length);
        Assert.Equal(1, w.Count);
        // d_ino, d_reclen 16, d_type 8 (DT_REG), d_namlen 3, "abc", NUL
        Assert.Equal(Hex.Norm("08070605 04030201 1000 08 03 61626300"), Hex.Of(buf.AsSpan(0, 16)));
    });

    [Fact(Timeout = 30_000)]
    public Task Writer_StopsWhenTheNextEntryDoesNotFit() => T.Run(() =>
    {
        var w = new DirentWriter(new byte[40]);
        Assert.True(w.TryAdd(1, DirentType.Directory, "."u8));        // 16
        Assert.True(w.TryAdd(2, DirentType.Directory, ".."u8));       // 16
        Assert.False(w.TryAdd(3, DirentType.Regular, "long-name"u8)); // 24: does not fit
        Assert.Equal(32, w.Length);
        Assert.Equal(2, w.Count);
    });

    [Fact(Timeout = 30_000)]
    public Task Writer_RejectsInvalidNames() => T.Run(() =>
    {
        Assert.False(DirentFormat.IsValidName(""u8));
        Assert.False(DirentFormat.IsValidName("a/b"u8));
        Assert.False(DirentFormat.IsValidName("a\0b"u8));
        Assert.False(DirentFormat.IsValidName(new byte[256]));
        Assert.True(DirentFormat.IsValidName(new byte[255].Select(_ => (byte)'x').ToArray()));
        Assert.Throws<ArgumentException>(() => { var w = new DirentWriter(new byte[64]); w.TryAdd(1, DirentType.Regular, "a/b"u8); });
    });

    [Fact(Timeout = 30_000)]
    public Task Reader_ReadsBackWhatTheWriterWrote() => T.Run(() =>
    {
        var buf = new byte[1024];
        var w = new DirentWriter(buf);
        var names = new[] { "x", "hello world", new string('n', 255) };
        for (int i = 0; i < names.Length; i++) Assert.True(w.TryAdd((ulong)i + 10, DirentType.Symlink, System.Text.Encoding.UTF8.GetBytes(names[i])));
        var r = new DirentReader(buf.AsSpan(0, w.Length));
        for (int i = 0; i < names.Length; i++)
        {
            Assert.True(r.TryRead(out var d));
            Assert.Equal((ulong)i + 10, d.Ino);
            Assert.Equal(DirentType.Symlink, d.Type);
            Assert.Equal(names[i], System.Text.Encoding.UTF8.GetString(d.Name));
        }
        Assert.False(r.TryRead(out _));
        Assert.False(r.Error);
    });

    [Theory(Timeout = 30_000)]
    [InlineData("01000000 00000000 0000 08 01 61000000")]   // d_reclen 0
    [InlineData("01000000 00000000 2000 08 01 61000000")]   // d_reclen past the end
    [InlineData("01000000 00000000 1000 08 00 61000000")]   // d_namlen 0
    [InlineData("01000000 00000000 1000 08 04 61616161")]   // name without room for its NUL
    [InlineData("01000000 00000000 0c00 08 01 61000000")]   // d_reclen not a multiple of 8
    [InlineData("01000000 00000000 1000 08 01 2f000000")]   // "/" in the name
    [InlineData("01000000 000000")]                         // truncated header
    public Task Reader_MalformedEntry_SetsErrorAndStops(string hex) => T.Run(() =>
    {
        var r = new DirentReader(Hex.Bytes(hex));
        Assert.False(r.TryRead(out _));
        Assert.True(r.Error);
    });
}
