import { create } from 'zustand';

export type ChatStatus = 'sending' | 'sent' | 'failed';

export interface ChatMessage {
  id: string;
  senderId: string;
  senderName: string;
  text: string;
  timestampMs: number;
  self: boolean;
  status: ChatStatus;
  failure?: string;
}

export interface Reaction {
  id: string;
  emoji: string;
  senderName: string;
  at: number;
}

export interface ChatState {
  messages: ChatMessage[];
  unread: number;
  open: boolean;
  reactions: Reaction[];
  /** A message from someone (or our own, sent or not); duplicates by id are ignored. */
  add(message: ChatMessage): void;
  setStatus(id: string, status: ChatStatus, failure?: string): void;
  setOpen(open: boolean): void;
  addReaction(reaction: Reaction): void;
  expireReactions(now: number): void;
  reset(): void;
}

export const MAX_MESSAGES = 500;
export const REACTION_MS = 4000;

export const useChatStore = create<ChatState>((set) => ({
  messages: [],
  unread: 0,
  open: false,
  reactions: [],
  add: (message) =>
    set((state) => {
      if (state.messages.some((m) => m.id === message.id)) return state;
      // History replayed to a late joiner arrives out of order: keep the list sorted by send time.
      const messages = [...state.messages, message].sort((a, b) => a.timestampMs - b.timestampMs).slice(-MAX_MESSAGES);
      return { messages, unread: state.open || message.self ? state.unread : state.unread + 1 };
    }),
  setStatus: (id, status, failure) =>
    set((state) => ({ messages: state.messages.map((m) => (m.id === id ? { ...m, status, ...(failure ? { failure } : {}) } : m)) })),
  setOpen: (open) => set((state) => ({ open, unread: open ? 0 : state.unread })),
  addReaction: (reaction) => set((state) => ({ reactions: [...state.reactions.slice(-19), reaction] })),
  expireReactions: (now) =>
    set((state) => {
      const reactions = state.reactions.filter((r) => now - r.at < REACTION_MS);
      return reactions.length === state.reactions.length ? state : { reactions };
    }),
  reset: () => set({ messages: [], unread: 0, open: false, reactions: [] }),
}));
