using System.Buffers.Binary;
using System.Text;

namespace MlPipeline.Training.Native;

/// <summary>
/// Reads and edits the symbol-version tables of a 64-bit little-endian ELF shared object:
/// the versions it needs from other libraries (<c>.gnu.version_r</c>) and the versions it defines (<c>.gnu.version_d</c>).
/// </summary>
internal static class ElfVersionNeeds
{
    const uint ShtGnuVerdef = 0x6ffffffd;
    const uint ShtGnuVerneed = 0x6ffffffe;
    internal const ushort VerFlagWeak = 0x2;

    /// <summary>One version a library needs from another: <c>vna_flags</c> lives at <see cref="FlagsOffset"/> in the file.</summary>
    internal readonly record struct VersionNeed(string File, string Version, ushort Flags, long FlagsOffset)
    {
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Lists every version the library needs, with the file offset of each entry's flags.</summary>
    public static IReadOnlyList<VersionNeed> ReadNeeds(ReadOnlySpan<byte> elf, string path)
    {
        var needs = new List<VersionNeed>();
        foreach (var (offset, size, strtab) in Sections(elf, path, ShtGnuVerneed))
        {
            long entry = offset;
            while (true)
            {
                Check(elf, entry, 16, path);
                ushort count = U16(elf, entry + 2);
                string file = CString(elf, strtab + U32(elf, entry + 4), path);
                long aux = entry + U32(elf, entry + 8);
                for (int i = 0; i < count; i++)
                {
                    Check(elf, aux, 16, path);
                    string name = CString(elf, strtab + U32(elf, aux + 8), path);
                    needs.Add(new VersionNeed(file, name, U16(elf, aux + 4), aux + 4));
                    uint nextAux = U32(elf, aux + 12);
                    if (nextAux == 0) { break; }
                    aux += nextAux;
                }
                uint next = U32(elf, entry + 12);
                if (next == 0 || entry + next >= offset + size) { break; }
                entry += next;
            }
        }
        return needs;
    }

    /// <summary>Lists every version name the library defines (for libstdc++: GLIBCXX_3.4, …, CXXABI_1.3.x).</summary>
    public static IReadOnlySet<string> ReadDefinitions(ReadOnlySpan<byte> elf, string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (offset, size, strtab) in Sections(elf, path, ShtGnuVerdef))
        {
            long entry = offset;
            while (true)
            {
                Check(elf, entry, 20, path);
                ushort count = U16(elf, entry + 6);
                long aux = entry + U32(elf, entry + 12);
                for (int i = 0; i < count; i++)
                {
                    Check(elf, aux, 8, path);
                    names.Add(CString(elf, strtab + U32(elf, aux), path));
                    uint nextAux = U32(elf, aux + 4);
                    if (nextAux == 0) { break; }
                    aux += nextAux;
                }
                uint next = U32(elf, entry + 16);
                if (next == 0 || entry + next >= offset + size) { break; }
                entry += next;
            }
        }
        return names;
    }

    /// <summary>Sets the weak flag on each needed version that <paramref name="missing"/> names; returns how many entries changed.</summary>
    public static int MarkWeak(Span<byte> elf, string path, Func<VersionNeed, bool> missing)
    {
        int changed = 0;
        foreach (var need in ReadNeeds(elf, path))
        {
            if (need.IsWeak || !missing(need)) { continue; }
            BinaryPrimitives.WriteUInt16LittleEndian(elf.Slice((int)need.FlagsOffset, 2), (ushort)(need.Flags | VerFlagWeak));
            changed++;
        }
        return changed;
    }

    static IEnumerable<(long Offset, long Size, long StrtabOffset)> Sections(ReadOnlySpan<byte> elf, string path, uint type)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException($"'{path}' is not an ELF file (expected the bytes 7F 45 4C 46 at offset 0).");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException($"'{path}' is not a 64-bit little-endian ELF file (class {elf[4]}, data {elf[5]}).");
        }
        long shoff = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[0x28..]);
        int shentsize = U16(elf, 0x3A);
        int shnum = U16(elf, 0x3C);
        var found = new List<(long, long, long)>();
        for (int i = 0; i < shnum; i++)
        {
            long sh = shoff + ((long)i * shentsize);
            Check(elf, sh, 64, path);
            if (U32(elf, sh + 4) != type) { continue; }
            long offset = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[(int)(sh + 0x18)..]);
            long size = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[(int)(sh + 0x20)..]);
            uint link = U32(elf, sh + 0x28);
            long linkHeader = shoff + ((long)link * shentsize);
            Check(elf, linkHeader, 64, path);
            long strtab = (long)BinaryPrimitives.ReadUInt64LittleEndian(elf[(int)(linkHeader + 0x18)..]);
            found.Add((offset, size, strtab));
        }
        return found;
    }

    static ushort U16(ReadOnlySpan<byte> elf, long at) => BinaryPrimitives.ReadUInt16LittleEndian(elf[(int)at..]);

    static uint U32(ReadOnlySpan<byte> elf, long at) => BinaryPrimitives.ReadUInt32LittleEndian(elf[(int)at..]);

    static void Check(ReadOnlySpan<byte> elf, long at, int length, string path)
    {
        if (at < 0 || at + length > elf.Length)
        {
            throw new InvalidDataException($"'{path}' is a truncated or corrupt ELF file: a table entry at offset {at} runs past the end ({elf.Length} bytes).");
        }
    }

    static string CString(ReadOnlySpan<byte> elf, long at, string path)
    {
        Check(elf, at, 1, path);
        int end = elf[(int)at..].IndexOf((byte)0);
        if (end < 0) { throw new InvalidDataException($"'{path}' has an unterminated string at offset {at}."); }
        return Encoding.ASCII.GetString(elf.Slice((int)at, end));
    }
}
