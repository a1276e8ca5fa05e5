using MlPipeline.Training.Native;

namespace MlPipeline.Training.Tests.Native;

[Platform("Linux")]
public sealed class TorchNativeTests
{
    const string MarkerVersion = "GLIBCXX_3.4.32";

    static string Library() => TorchNative.FindLibrary() ?? throw new AssertionException("libLibTorchSharp.so not found next to the tests");

    [Test]
    public void EnsureLoaded_OnThisHost_LoadsLibtorch()
    {
        TorchNative.EnsureLoaded();

        using var t = TorchSharp.torch.ones(3);
        Assert.That(t.sum().item<float>(), Is.EqualTo(3f));
    }

    [Test]
    public void EnsureLoaded_HostWithoutTheVersion_LeavesOnlyThatNeedWeak()
    {
        Assume.That(File.Exists("/usr/bin/readelf"), "binutils' readelf, the independent reader of the version sections");
        TorchNative.EnsureLoaded();
        string library = Library();
        var hostVersions = ReadElf.Definitions(TorchNative.FindHostLibstdcxx()!);
        var needs = ReadElf.Needs(library);

        var marker = needs.Single(n => n.Version == MarkerVersion);
        Assert.That(hostVersions, Has.Member("GLIBCXX_3.4.30"), "readelf read the host's definitions");
        Assert.That(marker.Weak, Is.EqualTo(!hostVersions.Contains(MarkerVersion)));
        Assert.That(needs.Where(n => n.Weak).Select(n => n.Version), Is.All.Not.AnyOf(hostVersions.ToArray()));
    }

    [Test]
    public void PatchForHost_OriginalLibraryAndAHostLackingTheVersion_FlipsExactlyTheFlagBit()
    {
        string dir = TempDirectory.Create();
        try
        {
            byte[] original = File.ReadAllBytes(Library());
            var need = ElfVersionNeeds.ReadNeeds(original, "lib").Single(n => n.Version == MarkerVersion);
            original[need.FlagsOffset] &= unchecked((byte)~ElfVersionNeeds.VerFlagWeak); // as shipped by TorchSharp
            string copy = Path.Combine(dir, TorchNative.LibraryFileName);
            File.WriteAllBytes(copy, original);

            var marked = TorchNative.PatchForHost(copy, TorchNative.FindHostLibstdcxx()!);

            byte[] patched = File.ReadAllBytes(copy);
            var differing = Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i]).ToList();
            var host = ElfVersionNeeds.ReadDefinitions(File.ReadAllBytes(TorchNative.FindHostLibstdcxx()!), "host");
            if (host.Contains(MarkerVersion))
            {
                Assert.That((marked, differing), Is.EqualTo((Array.Empty<string>(), new List<int>())));
            }
            else
            {
                Assert.That(marked, Is.EqualTo(new[] { MarkerVersion }));
                Assert.That(differing, Is.EqualTo(new[] { (int)need.FlagsOffset }));
                Assert.That(patched[need.FlagsOffset] & ElfVersionNeeds.VerFlagWeak, Is.Not.Zero);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ReadNeeds_NotAnElfFile_ThrowsNamingIt()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.ReadNeeds("hello, world, this is no ELF file at all and long enough"u8.ToArray().Concat(new byte[64]).ToArray(), "/x/y.so"));

        Assert.That(e!.Message, Does.Contain("/x/y.so").And.Contain("not an ELF file"));
    }

    [Test]
    public void Explain_LibraryThatCannotLoad_GivesTheLoadersReasonNotThePackageHint()
    {
        string dir = TempDirectory.Create();
        try
        {
            string fake = Path.Combine(dir, TorchNative.LibraryFileName);
            File.WriteAllText(fake, new string('x', 4096));

            string message = TorchNative.Explain(fake, new NotSupportedException("This application or script uses TorchSharp but doesn't contain a reference to libtorch-cpu-linux-x64"));

            Assert.That(message, Does.Contain(fake).And.Contain("failed to load").And.Contain("invalid ELF header").IgnoreCase);
            Assert.That(message, Does.Not.Contain("doesn't contain a reference"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The version sections as binutils' <c>readelf -V</c> prints them.</summary>
    static class ReadElf
    {
        static string[] Lines(string path)
        {
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/readelf", ["-V", "--wide", path]) { RedirectStandardOutput = true, UseShellExecute = false };
            using var process = System.Diagnostics.Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"readelf -V {path}");
            return output.Split('\n');
        }

        /// <summary>The lines of the section whose heading starts with <paramref name="heading"/>, up to the next heading.</summary>
        static IEnumerable<string> Section(string path, string heading) =>
            Lines(path).SkipWhile(l => !l.StartsWith(heading, StringComparison.Ordinal)).Skip(1).TakeWhile(l => !l.StartsWith("Version ", StringComparison.Ordinal));

        /// <summary>The versions a library defines ("Rev: 1  Flags: none  Index: 32  Cnt: 2  Name: GLIBCXX_3.4.30").</summary>
        public static HashSet<string> Definitions(string path) =>
            [.. Section(path, "Version definition section").Select(l => System.Text.RegularExpressions.Regex.Match(l, @"Index: \d+\s+Cnt: \d+\s+Name: (\S+)")).Where(m => m.Success).Select(m => m.Groups[1].Value)];

        /// <summary>The versions a library needs and whether each is weak ("Name: GLIBCXX_3.4.32  Flags: WEAK  Version: 18").</summary>
        public static List<(string Version, bool Weak)> Needs(string path) =>
            [.. Section(path, "Version needs section").Select(l => System.Text.RegularExpressions.Regex.Match(l, @"Name: (\S+)\s+Flags: (.+?)\s+Version: \d+")).Where(m => m.Success)
                .Select(m => (m.Groups[1].Value, m.Groups[2].Value.Contains("WEAK", StringComparison.Ordinal)))];
    }
}
