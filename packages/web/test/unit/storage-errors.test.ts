import { describe, expect, it } from "vitest";
import { describeStorageRejection, parseStorageError } from "../../src/storage-errors";

const xml = (code: string, message: string, extra = "") =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>ABC</RequestId></Error>`;
const ctx = { maxBytes: 15 * 1024 * 1024, fileName: "me.jpg" };

describe("parseStorageError", () => {
  it("reads S3's code and message, decoding entities", () => {
    expect(parseStorageError(xml("AccessDenied", "Invalid according to Policy: Policy Condition failed: [&quot;eq&quot;, &quot;$Content-Type&quot;, &quot;image/png&quot;]"))).toEqual({
      code: "AccessDenied",
      message: 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/png"]',
    });
  });

  it("returns undefined for bodies that are not S3 errors", () => {
    expect(parseStorageError("")).toBeUndefined();
    expect(parseStorageError("<html>Bad gateway</html>")).toBeUndefined();
  });
});

describe("describeStorageRejection", () => {
  it("explains a file over the policy's size limit", () => {
    const m = describeStorageRejection(400, xml("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size", "<ProposedSize>20000000</ProposedSize><MaxSizeAllowed>15728640</MaxSizeAllowed>"), ctx);
    expect(m).toBe("Storage refused “me.jpg”: it is larger than the 15 MB limit. Choose a smaller photo.");
  });

  it("explains an expired policy and a content type mismatch", () => {
    expect(describeStorageRejection(403, xml("AccessDenied", "Invalid according to Policy: Policy expired."), ctx)).toMatch(/upload link expired/);
    expect(describeStorageRejection(403, xml("AccessDenied", 'Invalid according to Policy: Policy Condition failed: ["eq", "$Content-Type", "image/jpeg"]'), ctx)).toMatch(/type does not match/);
  });

  it("says the network failed when there was no answer, and names unknown codes", () => {
    expect(describeStorageRejection(0, "", ctx)).toMatch(/network connection failed/);
    expect(describeStorageRejection(502, "<html/>", ctx)).toBe("Storage refused the upload (HTTP 502). Try again in a moment.");
    expect(describeStorageRejection(400, xml("SlowDown", "Reduce your request rate."), ctx)).toBe("Storage refused the upload (SlowDown: Reduce your request rate.).");
  });
});
