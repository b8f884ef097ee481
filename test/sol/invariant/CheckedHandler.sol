// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Segmint} from "../utils/Fixture.sol";
import {HandlerBase} from "../utils/Test.sol";

/// @title What every invariant handler shares: calls that cannot fail silently.
/// @dev The invariant runner drops a reverting handler call unless failOnRevert is set, and a
/// direct call whose revert is swallowed checks nothing. So handlers never call the protocol
/// directly: `_act` expects success (a revert is a violation unless listed as legitimate),
/// `_expectRevert` expects one specific custom error (success or another error is a
/// violation), and per-call checks go through `_check`. The first violation is kept in
/// `violation` and an invariant asserts that there is none.
abstract contract CheckedHandler is HandlerBase {
    Segmint internal s;
    /// @notice The first broken per-call expectation (empty while none).
    string public violation;
    uint256 public violations;
    /// @notice Calls made through `_act` that succeeded, and expected reverts seen: proof that
    /// the run exercised the protocol rather than returning early.
    uint256 public ghostCallsOk;
    uint256 public ghostExpectedReverts;

    /// @dev Calls `target` as `account`, expecting success. A revert with `allowed` (when not
    /// zero) is tolerated and reported as false; any other revert is a violation.
    function _act(address account, address target, bytes memory data, bytes4 allowed) internal returns (bool ok) {
        vm.prank(account);
        bytes memory reason;
        (ok, reason) = target.call(data);
        if (ok) {
            ++ghostCallsOk;
        } else if (allowed == bytes4(0) || bytes4(reason) != allowed) {
            _fail("unexpected revert", reason);
        }
    }

    function _act(address account, address target, bytes memory data) internal returns (bool) {
        return _act(account, target, data, bytes4(0));
    }

    /// @dev Calls `target` as `account`, expecting a revert with custom error `selector`.
    function _expectRevert(address account, address target, bytes memory data, bytes4 selector) internal {
        vm.prank(account);
        (bool ok, bytes memory reason) = target.call(data);
        if (ok) _fail("a call that must revert succeeded", data);
        else if (bytes4(reason) != selector) _fail("a call reverted with the wrong error", reason);
        else ++ghostExpectedReverts;
    }

    function _check(bool condition, string memory message) internal {
        if (!condition) _fail(message, "");
    }

    function _fail(string memory message, bytes memory reason) internal {
        if (violations == 0) violation = string.concat(message, " ", _hex(reason));
        ++violations;
    }

    /// @dev Moves to the first block of a later round, whatever the current round length.
    function _nextRound() internal {
        uint256 round = s.rounds.currentRound();
        uint256 next = block.number;
        while (s.rounds.currentRound() == round) {
            vm.roll(++next);
        }
    }

    function _hex(bytes memory data) private pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        uint256 n = data.length < 68 ? data.length : 68;
        bytes memory out = new bytes(2 * n);
        for (uint256 i = 0; i < n; ++i) {
            out[2 * i] = digits[uint8(data[i]) >> 4];
            out[2 * i + 1] = digits[uint8(data[i]) & 0x0f];
        }
        return string(out);
    }
}
