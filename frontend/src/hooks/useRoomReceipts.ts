import { useEffect } from "react";
import { ApiError, type Api } from "../api";
import type { ChatClient } from "../chat/client";
import { countsRefreshDelay, newestOwn, worthRetrying } from "../chat/roomReceipts";
import type { ChatState } from "../chat/state";
import { isChatKey } from "../chat/types";

/**
 * The counts of one's newest message in the room on screen (rooms get no receipt frames: counts
 * on request, ``GET /rooms/{roomId}/receipts``): asked for when that message is stored or the
 * room comes on screen, again a few seconds later, then every 15 s while the room stays on
 * screen, the page visible and the connection up. A refusal (not in the room, a stage without
 * room receipts) stops the asking, quietly; a passing failure is tried again on the schedule.
 */
export function useRoomReceipts(client: ChatClient, api: Api, state: ChatState): void {
  const roomId = isChatKey(state.activeRoom) ? null : state.activeRoom;
  const own = roomId === null ? null : newestOwn(state.rooms[roomId]?.messages ?? [], state.me.userId);
  const live = state.visible && state.status === "connected";
  const messageId = own?.messageId ?? null;
  const timestamp = own?.timestamp ?? null;
  useEffect(() => {
    if (!live || roomId === null || messageId === null || timestamp === null) return;
    let stopped = false;
    let timer: number | undefined;
    let step = 0;
    const later = () => {
      timer = window.setTimeout(ask, countsRefreshDelay(step));
      step += 1;
    };
    function ask() {
      api.roomReceipts(roomId!, { messageId: messageId!, timestamp: timestamp! }).then(
        (counts) => {
          if (stopped || counts === null) return; // no counts: a stage that does not count
          client.roomCountsLoaded(roomId!, counts);
          later();
        },
        (error: unknown) => {
          if (!stopped && worthRetrying(error instanceof ApiError ? error.status : undefined)) later();
        },
      );
    }
    ask();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [api, client, live, roomId, messageId, timestamp]);
}
