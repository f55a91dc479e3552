using System.Collections.Immutable;
using Hurd.Ipc.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Hurd.Interfaces.Tests;

/// <summary>Runs the generator on source strings and checks what it reports and emits.</summary>
public class GeneratorDiagnosticsTests
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var tpa = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        return tpa.Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(Hurd.Ipc.Abi.Errno).Assembly.Location))
            .Append(MetadataReference.CreateFromFile(typeof(PortRight).Assembly.Location))
            .ToArray();
    });

    private const string Usings = """
        using System;
        using Hurd.Ipc.Abi;
        using Hurd.Ipc.Ports;
        using Hurd.Ipc.Rpc;
        using Hurd.Interfaces;
        namespace Test;

        """;

    /// <summary>Generator diagnostics, and the compilation's errors after generation.</summary>
    private static (ImmutableArray<Diagnostic> generator, ImmutableArray<Diagnostic> compile, string[] generated) Run(string source)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var compilation = CSharpCompilation.Create("GenTest",
            [CSharpSyntaxTree.ParseText(Usings + source, parse)],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable, allowUnsafe: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new SubsystemGenerator().AsSourceGenerator()], parseOptions: parse);
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diags);
        var result = driver.GetRunResult();
        var generated = result.GeneratedTrees.Select(t => t.ToString()).ToArray();
        var compileErrors = output.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return (diags, compileErrors, generated);
    }

    [Fact(Timeout = 120_000)]
    public Task ValidProtocol_GeneratesCompilingStubs_WithoutDiagnostics() => T.Run(() =>
    {
        var (gen, compile, generated) = Run("""
            [Subsystem("demo", 40000)]
            public interface IDemo
            {
                [Routine(0)] Errno demo_get(int key, Span<byte> value, out int valueCount, out PortRight port);
                [Routine(3)] Errno demo_put(ReadOnlySpan<byte> value, in TimeSpec when, ref long version);
                [SimpleRoutine(4)] void demo_poke(PortName p);
                [Routine(5)] Errno demo_names(int impl, int req, int reply, int code, int _target, Span<byte> call, out int callCount, ref int @event);
            }
            """);
        Assert.Empty(gen);
        Assert.Empty(compile);
        var code = Assert.Single(generated);
        Assert.Contains("public sealed partial class DemoClient : global::Test.IDemo", code);
        Assert.Contains("public static partial class DemoServer", code);
        Assert.Contains("public const uint demo_put = 40003u;", code);
        Assert.Contains("Reply_demo_get(", code);
        Assert.DoesNotContain("Reply_demo_poke(", code);
        Assert.Contains("public static bool Handles(uint id)", code);
    });

    [Theory(Timeout = 120_000)]
    [InlineData("string name")]
    [InlineData("double ratio")]
    [InlineData("int[] values")]
    [InlineData("object o")]
    [InlineData("ReadOnlySpan<long> ids")]
    [InlineData("Span<ushort> buf, out int n")]
    [InlineData("int? maybe")]
    [InlineData("ref PortName p")]
    [InlineData("Memory<byte> m")]
    public Task UnsupportedParameterType_ReportsHURDGEN001(string parameter) => T.Run(() =>
    {
        var (gen, _, generated) = Run($$"""
            [Subsystem("bad", 41000)]
            public interface IBad { [Routine(0)] Errno bad_call({{parameter}}); }
            """);
        var d = Assert.Single(gen);
        Assert.Equal("HURDGEN001", d.Id);
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Contains("bad_call", d.GetMessage());
        Assert.Empty(generated);
    });

    [Theory(Timeout = 120_000)]
    [InlineData("Errno f(int x);", "HURDGEN002")]
    [InlineData("[Routine(0)] Errno a(); [Routine(0)] Errno b();", "HURDGEN003")]
    [InlineData("[Routine(0)] int f();", "HURDGEN004")]
    [InlineData("[Routine(0)] void f();", "HURDGEN004")]
    [InlineData("[Routine(0)] Errno f(Span<byte> buf);", "HURDGEN005")]
    [InlineData("[Routine(0)] Errno f(Span<byte> buf, int n);", "HURDGEN005")]
    [InlineData("[Routine(0)] Errno f(Span<byte> a, out int an, Span<byte> b, out int bn);", "HURDGEN006")]
    [InlineData("[SimpleRoutine(0)] void f(out int x);", "HURDGEN007")]
    [InlineData("[Routine(100)] Errno f();", "HURDGEN008")]
    [InlineData("[Routine(-1)] Errno f();", "HURDGEN008")]
    [InlineData("int P { get; }", "HURDGEN009")]
    [InlineData("[Routine(0)] Errno f<TX>(int x);", "HURDGEN009")]
    [InlineData("[Routine(0)] Errno f([Right(Disposition.None)] PortName p);", "HURDGEN010")]
    [InlineData("[Routine(0)] Errno f(int __x);", "HURDGEN011")]
    [InlineData("[Routine(0)] Errno f(Span<byte> b, out int __n);", "HURDGEN011")]
    public Task BadDeclarations_ReportTheirDiagnostic(string members, string id) => T.Run(() =>
    {
        var (gen, _, generated) = Run($$"""
            [Subsystem("bad", 41000)]
            public interface IBad { {{members}} }
            """);
        Assert.Contains(gen, d => d.Id == id && d.Severity == DiagnosticSeverity.Error);
        Assert.Empty(generated);
    });

    [Theory(Timeout = 120_000)]
    [InlineData("public interface IBase { } [Subsystem(\"bad\", 41000)] public interface IBad : IBase { [Routine(0)] Errno f(); }")]
    [InlineData("[Subsystem(\"bad\", 41000)] public interface IBad<TX> { [Routine(0)] Errno f(); }")]
    public Task GenericOrDerivedSubsystem_ReportsHURDGEN012(string source) => T.Run(() =>
    {
        var (gen, _, generated) = Run(source);
        Assert.Contains(gen, d => d.Id == "HURDGEN012");
        Assert.Empty(generated);
    });

    [Fact(Timeout = 120_000)]
    public Task InterfaceWithoutSubsystem_IsIgnored() => T.Run(() =>
    {
        var (gen, compile, generated) = Run("public interface IPlain { Errno f(string s); }");
        Assert.Empty(gen);
        Assert.Empty(compile);
        Assert.Empty(generated);
    });

    [Fact(Timeout = 120_000)]
    public Task UnrelatedEdit_ReusesTheCachedModel() => T.Run(() =>
    {
        var parse = new CSharpParseOptions(LanguageVersion.Preview);
        var protocol = CSharpSyntaxTree.ParseText(Usings + """
            [Subsystem("demo", 40000)]
            public interface IDemo { [Routine(0)] Errno demo_get(int key, Span<byte> value, out int valueCount); }
            """, parse);
        var compilation = CSharpCompilation.Create("GenTest", [protocol], References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, allowUnsafe: true));
        GeneratorDriver driver = CSharpGeneratorDriver.Create([new SubsystemGenerator().AsSourceGenerator()], parseOptions: parse,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGenerators(compilation);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("namespace Other; public class Unrelated { public int X; }", parse));
        driver = driver.RunGenerators(edited);

        var steps = driver.GetRunResult().Results.Single().TrackedSteps[SubsystemGenerator.TrackingName];
        Assert.All(steps.SelectMany(s => s.Outputs), o => Assert.True(
            o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));

        // A real change to the protocol is not cached.
        var changed = edited.ReplaceSyntaxTree(protocol, CSharpSyntaxTree.ParseText(Usings + """
            [Subsystem("demo", 40000)]
            public interface IDemo { [Routine(1)] Errno demo_get(int key, Span<byte> value, out int valueCount); }
            """, parse));
        driver = driver.RunGenerators(changed);
        steps = driver.GetRunResult().Results.Single().TrackedSteps[SubsystemGenerator.TrackingName];
        Assert.Contains(steps.SelectMany(s => s.Outputs), o => o.Reason == IncrementalStepRunReason.Modified);
    });
}
